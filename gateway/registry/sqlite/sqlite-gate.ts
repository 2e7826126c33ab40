import type Database from 'better-sqlite3';

/** A repository whose methods return promises (the contract) made from one whose methods are synchronous. */
export type Async<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

/**
 * One better-sqlite3 connection is shared by every repository, and a transaction of the contract spans awaits
 * (`transaction(async (tx) => …)`). So while one is open, every other statement waits for it to end: otherwise
 * it would run inside the open transaction (and be rolled back with it). Outside a transaction a statement runs
 * at once (synchronously, no queue), which keeps the per-ack cost of the embedded default low.
 */
export class SqliteGate {
  /**
   * The end of the last transaction queued (open or waiting), null when none is. Transactions queue behind it one
   * by one, FIFO: each waits for its predecessor only. (Waiting for "the" open transaction in a loop woke every
   * waiter at every commit, one won and the rest slept again: O(waiters) per commit, which made 10,000 devices
   * in flight cost quadratic time — bench/million.ts, docs/million.md.)
   */
  private tail: Promise<void> | null = null;

  constructor(private readonly client: Database.Database) {}

  /** Runs a synchronous statement (or several) once no transaction is open or queued (at once when none is). */
  async run<T>(fn: () => T): Promise<T> {
    while (this.tail !== null) await this.tail;
    return fn();
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    const before = this.tail;
    let done = (): void => {};
    const mine = new Promise<void>((resolve) => (done = resolve));
    this.tail = mine;
    if (before !== null) await before;
    try {
      this.client.exec('BEGIN IMMEDIATE');
      const result = await fn();
      this.client.exec('COMMIT');
      return result;
    } catch (err) {
      if (this.client.inTransaction) this.client.exec('ROLLBACK');
      throw err;
    } finally {
      if (this.tail === mine) this.tail = null;
      done();
    }
  }
}

/** The async face of a synchronous repository: every method call goes through `run`. */
export function asyncFacade<T extends object>(target: T, run: <R>(fn: () => R) => Promise<R>): Async<T> {
  return new Proxy(target, {
    get(t, key) {
      const v = Reflect.get(t, key, t) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => run(() => (v as (...a: unknown[]) => unknown).apply(t, args));
    },
  }) as unknown as Async<T>;
}

/** Inside a transaction: statements run at once (the gate is held by the transaction itself). */
export const direct = <R>(fn: () => R): Promise<R> => {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err as Error);
  }
};
