import type pg from 'pg';

/**
 * One short transaction on a pooled connection, for a repository that is not part of the registry's unit of work
 * (findings, webhook outbox): begin, fn, commit; rollback and rethrow on error. A connection whose rollback failed
 * (the server ended the session) is discarded, not pooled.
 */
export async function inPgTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error) => (broken = err);
  client.on('error', onError);
  try {
    await client.query('begin');
    const out = await fn(client);
    await client.query('commit');
    return out;
  } catch (err) {
    await client.query('rollback').catch((e: unknown) => (broken ??= e as Error));
    throw err;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}
