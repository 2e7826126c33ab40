import { Worker } from 'node:worker_threads';
import { DeviceFleetModel, type DeviceAnswer, type FleetSpec } from './device-model';

/**
 * Where the bench's devices run: a worker thread (the bench: device CPU off the gateway's event loop, as devices
 * are other machines) or the caller's thread (the test, which has no TypeScript loader for a worker). Either way
 * each device checks each envelope it gets itself (device-model.ts); deliveries are handed over in batches.
 */
export interface DeviceCost {
  checkMs: number;
  checks: number;
  rejected: number;
  /** µs per signature verify (ed25519VerifyFast), measured on the devices' thread after the run. */
  verifyMicros: number;
}

export interface DeviceSide {
  /** Hands `envelope` to the device with this index (its update topic); answers arrive through `onAnswers`. */
  deliver(index: number, envelope: Uint8Array): void;
  onAnswers(fn: (answers: DeviceAnswer[]) => void): void;
  /** Receipt checks run so far and the time they took (signature verify included). */
  cost(): Promise<DeviceCost>;
  close(): Promise<void>;
}

/** Deliveries collected during one turn of the event loop, sent as one batch (envelopes deduplicated by identity). */
class Batcher {
  private envs: Uint8Array[] = [];
  private idx: number[] = [];
  private env: number[] = [];
  private scheduled = false;

  constructor(private readonly flush: (envs: Uint8Array[], idx: Int32Array, env: Int32Array) => void) {}

  add(index: number, envelope: Uint8Array): void {
    let e = this.envs.lastIndexOf(envelope);
    if (e < 0) e = this.envs.push(envelope) - 1;
    this.idx.push(index);
    this.env.push(e);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        const [envs, idx, env] = [this.envs, Int32Array.from(this.idx), Int32Array.from(this.env)];
        this.envs = [];
        this.idx = [];
        this.env = [];
        this.flush(envs, idx, env);
      });
    }
  }
}

export interface DeliverBatch {
  type: 'deliver';
  envs: Uint8Array[];
  idx: Int32Array;
  env: Int32Array;
  nowSeconds: number;
}

export type ToWorker = { type: 'init'; spec: FleetSpec } | DeliverBatch | { type: 'cost' };
export type FromWorker = { type: 'answers'; answers: DeviceAnswer[] } | { type: 'cost'; cost: DeviceCost };

/** Runs a batch on a model: the answers of each device, in delivery order. */
export function runBatch(model: DeviceFleetModel, b: Omit<DeliverBatch, 'type'>): DeviceAnswer[] {
  const out: DeviceAnswer[] = [];
  for (let i = 0; i < b.idx.length; i++) {
    const envelope = b.envs[b.env[i] as number] as Uint8Array;
    out.push(model.receive(b.idx[i] as number, envelope, b.nowSeconds));
  }
  return out;
}

export function inThreadDevices(spec: FleetSpec, nowSeconds: () => number): DeviceSide {
  const model = new DeviceFleetModel(spec);
  let listener: (a: DeviceAnswer[]) => void = () => {};
  const batcher = new Batcher((envs, idx, env) => listener(runBatch(model, { envs, idx, env, nowSeconds: nowSeconds() })));
  return {
    deliver: (index, envelope) => batcher.add(index, envelope),
    onAnswers: (fn) => (listener = fn),
    cost: async () => ({ ...model.cost, verifyMicros: model.measureVerify() }),
    close: async () => {},
  };
}

/** Devices in `workers` worker threads; device i lives in worker i % workers. */
export function workerDevices(spec: FleetSpec, nowSeconds: () => number, workers: number): DeviceSide {
  const url = new URL('./device-worker.ts', import.meta.url);
  // the worker is TypeScript too: it registers tsx's loader in its own thread first (npm run bench runs under tsx)
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`;
  const pool = Array.from({ length: workers }, () => new Worker(boot, { eval: true }));
  let listener: (a: DeviceAnswer[]) => void = () => {};
  const costWaiters: ((c: DeviceCost) => void)[] = [];
  for (const w of pool) {
    w.postMessage({ type: 'init', spec } satisfies ToWorker);
    w.on('message', (m: FromWorker) => {
      if (m.type === 'answers') listener(m.answers);
      else costWaiters.shift()?.(m.cost);
    });
    w.on('error', (err) => {
      console.error('device worker failed', err);
    });
  }
  const batchers = pool.map(
    (w) => new Batcher((envs, idx, env) => w.postMessage({ type: 'deliver', envs, idx, env, nowSeconds: nowSeconds() } satisfies ToWorker, [idx.buffer as ArrayBuffer, env.buffer as ArrayBuffer])),
  );
  return {
    deliver: (index, envelope) => (batchers[index % workers] as Batcher).add(index, envelope),
    onAnswers: (fn) => (listener = fn),
    cost: async () => {
      const all = await Promise.all(
        pool.map((w) => {
          const p = new Promise<DeviceCost>((ok) => costWaiters.push(ok));
          w.postMessage({ type: 'cost' } satisfies ToWorker);
          return p;
        }),
      );
      const sum = all.reduce((a, c) => ({ checkMs: a.checkMs + c.checkMs, checks: a.checks + c.checks, rejected: a.rejected + c.rejected, verifyMicros: 0 }), { checkMs: 0, checks: 0, rejected: 0, verifyMicros: 0 });
      return { ...sum, verifyMicros: all.reduce((a, c) => a + c.verifyMicros, 0) / Math.max(1, all.length) };
    },
    close: async () => {
      await Promise.all(pool.map((w) => w.terminate()));
    },
  };
}
