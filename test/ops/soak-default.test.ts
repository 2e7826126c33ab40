import { afterAll, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../gateway/config/from-env';
import { api, pinsetDraft, removeDir, startTestGateway, tempDir, type TestGateway } from '../gateway/helpers/test-gateway';

describe('the default soak time (10 min) is settable by environment', () => {
  const dir = tempDir();
  let gw: TestGateway | undefined;
  afterAll(async () => {
    await gw?.stop();
    removeDir(dir);
  });

  it('is 10 minutes unless PINGW_ROLLOUT_SOAK_MS says otherwise; a bad value names the variable', () => {
    expect(configFromEnv({}).rollouts.soakMs).toBe(600_000);
    expect(configFromEnv({ PINGW_ROLLOUT_SOAK_MS: '30000' }).rollouts.soakMs).toBe(30_000);
    expect(() => configFromEnv({ PINGW_ROLLOUT_SOAK_MS: 'ten' })).toThrow(/PINGW_ROLLOUT_SOAK_MS: .*\(got "ten"\)/);
  });

  it('new rollouts take it from the environment; a rollout may still set its own', async () => {
    const env = configFromEnv({ PINGW_ROLLOUT_SOAK_MS: '30000' });
    gw = await startTestGateway(dir, { rollouts: env.rollouts });
    const pinsetId = (await api(gw, 'POST', '/api/pinsets', { token: gw.adminToken, body: pinsetDraft('fleet-soak') })).body.id as number;
    const dflt = await api(gw, 'POST', '/api/rollouts', { token: gw.adminToken, body: { pinsetId } });
    expect(dflt.status).toBe(201);
    expect(dflt.body.gates.soakMs).toBe(30_000);
    await api(gw, 'POST', `/api/rollouts/${dflt.body.id}/abort`, { token: gw.adminToken, body: {} });
    const own = await api(gw, 'POST', '/api/rollouts', { token: gw.adminToken, body: { pinsetId, gates: { soakMs: 5000 } } });
    expect(own.body.gates.soakMs).toBe(5000);
  });
});
