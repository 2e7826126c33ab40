import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openRegistryDb, type RegistryDb } from '../../gateway/db/open';
import { IngestWriter } from '../../gateway/registry/ingest-writer';
import { removeDir, tempDir } from './helpers/test-gateway';

describe('batched ingestion', () => {
  let dir: string;
  let db: RegistryDb;
  afterEach(() => {
    db.$client.close();
    removeDir(dir);
  });
  const open = () => {
    dir = tempDir();
    db = openRegistryDb(join(dir, 'registry.sqlite'));
    return db;
  };
  const ack = (i: number, status = 'applied') => ({ deviceId: `d-${i}`, seq: 1, sha256: 'ab'.repeat(32), status, code: null, pinsetId: 7 });
  const count = (sql: string) => (db.$client.prepare(sql).get() as { n: number }).n;

  it('close() commits everything buffered: nothing accepted is lost on stop', async () => {
    const writer = new IngestWriter(open(), { now: () => 1000 }, { flushMs: 60_000, maxRows: 100_000 });
    const results = Array.from({ length: 2500 }, (_, i) => writer.addAck(ack(i)));
    writer.countMalformed('d-1', 'hello', 'E_CBOR', 'bad');
    expect(count('select count(*) n from acks')).toBe(0); // still buffered
    writer.close();
    expect(await Promise.all(results)).toEqual(Array(2500).fill(true));
    expect(count('select count(*) n from acks')).toBe(2500);
    expect(count("select count as n from pinset_ack_counts where status = 'applied'")).toBe(2500);
    expect(count('select count as n from malformed_counts')).toBe(1);
    await expect(writer.addAck(ack(1))).rejects.toThrow(/closed/);
  });

  it('flushes by size, and a redelivered ack is not new and not counted again', async () => {
    const writer = new IngestWriter(open(), { now: () => 1000 }, { flushMs: 60_000, maxRows: 3 });
    const first = [writer.addAck(ack(1)), writer.addAck(ack(1)), writer.addAck(ack(1, 'verified'))]; // the third fills the batch
    expect(await Promise.all(first)).toEqual([true, false, true]);
    expect(await Promise.all([writer.addAck(ack(1)), writer.addAck(ack(2)), writer.addAck(ack(2))])).toEqual([false, true, false]);
    expect(count("select count as n from pinset_ack_counts where status = 'applied'")).toBe(2);
    writer.close();
  });
});
