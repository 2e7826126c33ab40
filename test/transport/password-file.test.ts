import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashDeviceCredential, hashDeviceCredentialPbkdf2 } from '../../gateway/auth/device-credentials';
import { MosquittoPasswordFile, type CredentialRow } from '../../gateway/external-broker/password-file';
import { memoryLogger } from '../../gateway/logger';
import { connectRaw } from '../gateway/helpers/device-client';
import { waitFor } from '../support/wait-for';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto';

describe('Mosquitto password file kept equal to the registry', () => {
  let m: TestMosquitto;
  const rows: CredentialRow[] = [];
  const logger = memoryLogger();
  let file: MosquittoPasswordFile;

  beforeAll(async () => {
    m = await startMosquitto();
    rows.push({ deviceId: 'dev-new', hash: await hashDeviceCredentialPbkdf2('secret-new') });
    // enrolled for the embedded broker (scrypt): Mosquitto cannot check it
    rows.push({ deviceId: 'dev-old', hash: await hashDeviceCredential('secret-old', 1024) });
    file = new MosquittoPasswordFile(
      { file: m.passwordFile, pidFile: m.pidFile, minIntervalMs: 60_000 },
      {
        list: async function* () {
          yield* rows;
        },
        backendLines: () => [],
        logger,
      },
    );
  });
  afterAll(async () => {
    file?.close();
    await m?.stop();
  });

  const accepted = async (id: string, secret: string) => {
    const c = await connectRaw(m.deviceUrl, { ca: m.caPem, servername: 'localhost', clientId: id, username: id, password: secret }).catch(() => null);
    await c?.endAsync();
    return c !== null;
  };

  it('writes mosquitto_passwd lines the broker verifies; hashes it cannot check are left out, counted and logged', async () => {
    await file.flush();
    const lines = readFileSync(m.passwordFile, 'utf8').trim().split('\n');
    expect(lines).toEqual([`dev-new:${rows[0]!.hash}`]);
    expect(lines[0]).toMatch(/^dev-new:\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
    expect(file.last).toMatchObject({ devices: 1, skipped: 1 });
    expect(logger.lines.some((l) => l.level === 'warn' && l.context?.['skipped'] === 1)).toBe(true);
    await waitFor('dev-new accepted', () => accepted('dev-new', 'secret-new'), 5000, 50);
    expect(await accepted('dev-new', 'secret-wrong')).toBe(false);
    expect(await accepted('dev-old', 'secret-old')).toBe(false);
  });

  it('coalesces requests: many changes inside the interval make one rewrite after it', async () => {
    const before = logger.lines.filter((l) => l.message === 'broker password file rewritten').length;
    rows.push({ deviceId: 'dev-late', hash: await hashDeviceCredentialPbkdf2('secret-late') });
    for (let i = 0; i < 50; i++) file.request();
    // the last rewrite was moments ago and the interval is a minute: nothing is written yet
    expect(readFileSync(m.passwordFile, 'utf8')).not.toContain('dev-late');
    await file.flush(); // what the timer would do at the end of the interval
    expect(readFileSync(m.passwordFile, 'utf8')).toContain('dev-late');
    expect(logger.lines.filter((l) => l.message === 'broker password file rewritten').length).toBe(before + 1);
  });

  it('a missing broker pid file is an error naming the file, and the old password file stays', async () => {
    const broken = new MosquittoPasswordFile(
      { file: m.passwordFile, pidFile: join(m.dir, 'no-such.pid'), minIntervalMs: 1000 },
      { list: async function* () {}, backendLines: () => [], logger },
    );
    const before = readFileSync(m.passwordFile, 'utf8');
    await expect(broken.flush()).rejects.toThrow(/no-such\.pid/);
    broken.close();
    expect(readFileSync(m.passwordFile, 'utf8')).toBe(before);
  });
});
