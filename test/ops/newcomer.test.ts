import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { keysetToJson, fromHex } from '../../shared/index';
import { api, enrol, removeDir, startTestGateway, tempDir, type TestGateway } from '../gateway/helpers/test-gateway';
import { runSim, type SimProcess } from './sim-process';

/** Rough edges a newcomer hit in the first trial of the simulator, each tried as that user would. */
describe('device-sim as a newcomer runs it (real processes against a real gateway)', () => {
  const dir = tempDir('pingw-newcomer-');
  let gw: TestGateway;
  const sims: SimProcess[] = [];
  let common: string[];

  beforeAll(async () => {
    gw = await startTestGateway(join(dir, 'gw'));
    const keysets = await api(gw, 'GET', '/api/keysets', { token: gw.adminToken });
    const current = keysets.body[keysets.body.length - 1] as { version: number; publicKeys: string[] };
    writeFileSync(join(dir, 'keyset.json'), JSON.stringify(keysetToJson({ version: current.version, publicKeys: current.publicKeys.map(fromHex) })));
    common = [
      '--fleet', 'sim-fleet', '--class', 'sensor', '--mqtt', `mqtts://127.0.0.1:${gw.mqtts.port}`, '--broker-host', 'localhost',
      '--ca', gw.files.tlsCert, '--keyset', join(dir, 'keyset.json'), '--workers', '1', '--progress', '1', '--no-fsync',
    ];
  });
  afterAll(async () => {
    await Promise.all(sims.map((s) => s.stop()));
    await gw?.stop();
    removeDir(dir);
  });

  it('sim:rogue --help prints its help and exits 0', async () => {
    const r = runSim('device-sim/rogue.ts', ['--help']);
    expect(await r.exited).toBe(0);
    expect(r.stdout()).toMatch(/^usage: tsx device-sim\/rogue\.ts --mqtt URL/);
  });

  it('sim refuses a token on the command line, and takes it from SIM_API_TOKEN', async () => {
    const onArgv = runSim('device-sim/main.ts', [...common, '--api', gw.http.url, '--token', gw.adminToken]);
    expect(await onArgv.exited).toBe(1);
    expect(onArgv.stderr()).toMatch(/--token on the command line is visible to every user in ps: use --token-file FILE or SIM_API_TOKEN/);

    const sim = runSim('device-sim/main.ts', [...common, '--devices', '2', '--api', gw.http.url, '--data', join(dir, 'sim-env')], {
      SIM_API_TOKEN: gw.adminToken,
    });
    sims.push(sim);
    await vi.waitFor(() => expect(sim.stdout()).toMatch(/online=2/), { timeout: 60_000, interval: 200 });
    const devices = await api(gw, 'GET', '/api/devices?fleet=sim-fleet', { token: gw.adminToken });
    expect(JSON.stringify(devices.body)).toContain('sim-00000');
    expect(await sim.stop()).toBe(0);
  });

  it('keyset-from-gateway refuses a token on the command line, and takes it from SIM_API_TOKEN', async () => {
    const out = join(dir, 'keyset-from-env.json');
    const onArgv = runSim('device-sim/keyset-from-gateway.ts', ['--api', gw.http.url, '--token', gw.adminToken, '--out', out]);
    expect(await onArgv.exited).toBe(1);
    expect(onArgv.stderr()).toMatch(/--token on the command line is visible to every user in ps/);
    const fromEnv = runSim('device-sim/keyset-from-gateway.ts', ['--api', gw.http.url, '--out', out], { SIM_API_TOKEN: gw.adminToken });
    expect(await fromEnv.exited).toBe(0);
    expect(fromEnv.stdout()).toMatch(/^keyset v\d+ \(\d+ keys\) written to /);
  });

  it('sim says why devices are refused while it runs, not only in the final JSON', async () => {
    const good = await enrol(gw, 'why-good', 'sim-fleet', 'sensor');
    await enrol(gw, 'why-bad', 'sim-fleet', 'sensor');
    writeFileSync(join(dir, 'ids.json'), JSON.stringify([
      { deviceId: 'why-good', credential: good, fleet: 'sim-fleet', deviceClass: 'sensor' },
      { deviceId: 'why-bad', credential: 'not-the-credential', fleet: 'sim-fleet', deviceClass: 'sensor' },
    ]));
    const sim = runSim('device-sim/main.ts', [...common, '--devices', '2', '--identities', join(dir, 'ids.json'), '--data', join(dir, 'sim-ids')]);
    sims.push(sim);
    await vi.waitFor(() => expect(sim.stdout() + sim.stderr()).toMatch(/^why: broker\/network: Connection refused: Bad username or password ×\d+$/m), { timeout: 20_000, interval: 200 }).catch((e: Error) => {
      throw new Error(`${e.message}\n${sim.stdout()}\n${sim.stderr()}`);
    });
    expect(sim.stdout()).not.toMatch(/"summary"/); // still running: the reason came before the final JSON
    await sim.stop();
  });
});
