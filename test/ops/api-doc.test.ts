import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, removeDir, startTestGateway, tempDir, type TestGateway } from '../gateway/helpers/test-gateway';

const DOC = fileURLToPath(new URL('../../docs/api.md', import.meta.url));

describe('docs/api.md lists every route of the OpenAPI document', () => {
  const dir = tempDir();
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway(dir);
  });
  afterAll(async () => {
    await gw.stop();
    removeDir(dir);
  });

  it('with its method, path and role', async () => {
    const doc = (await api(gw, 'GET', '/api/openapi.json')).body as { paths: Record<string, Record<string, { 'x-required-role'?: string }>> };
    const rows = new Set(
      readFileSync(DOC, 'utf8')
        .split('\n')
        .map((l) => /^\| (GET|POST|DELETE|PUT|PATCH) \| (\S+) \| (\w+) \|/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => `${m[1]} ${m[2]} ${m[3]}`),
    );
    const routes = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([m, op]) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')} ${op['x-required-role'] ?? 'none'}`),
    );
    expect(routes.length).toBeGreaterThan(30);
    expect(routes.filter((r) => !rows.has(r))).toEqual([]);
  });
});
