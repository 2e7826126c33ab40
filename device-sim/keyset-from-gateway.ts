import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { fromHex, keysetFromJson, keysetToJson } from '../shared/index';
import { waitUntil } from './wait-until';

/**
 * `tsx device-sim/keyset-from-gateway.ts --api URL [--token-file F] --out keyset.json [--wait-seconds 60]`
 * The API token comes from --token-file or the SIM_API_TOKEN environment variable, never the command line (where
 * every user of the machine sees it in ps).
 *
 * Writes the gateway's current signer keyset (GET /api/keysets, newest version) as the `--keyset` file of
 * `device-sim/main.ts` — the keyset a device would be provisioned with at the factory. Retries until the API
 * answers (a container that starts next to the gateway). Used by docker-compose.yml's simulator service.
 */
async function main(): Promise<void> {
  const s = { type: 'string' } as const;
  const usage = 'usage: keyset-from-gateway.ts --api URL [--token-file F] --out keyset.json [--wait-seconds 60]  (or SIM_API_TOKEN)';
  if (process.argv.slice(2).some((a) => a === '--token' || a.startsWith('--token='))) {
    throw new TypeError('--token on the command line is visible to every user in ps: use --token-file FILE or SIM_API_TOKEN');
  }
  const { values: v } = parseArgs({ options: { api: s, 'token-file': s, out: s, 'wait-seconds': s }, strict: true });
  const envToken = process.env['SIM_API_TOKEN']?.trim();
  if (v.api === undefined || v.out === undefined || (envToken === undefined && v['token-file'] === undefined)) {
    throw new TypeError(usage);
  }
  // the gateway may still be starting (docker compose starts both at once): retry until it answers
  const json = await waitUntil('the gateway\'s keyset (GET /api/keysets)', async () => {
    const token = v['token-file'] !== undefined ? (await readFile(v['token-file'], 'utf8')).trim() : (envToken as string);
    const res = await fetch(new URL('/api/keysets', v.api), { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`GET /api/keysets: HTTP ${res.status}`);
    const list = (await res.json()) as { version: number; publicKeys: string[] }[];
    const newest = list.at(-1);
    if (newest === undefined) throw new Error('the gateway has no keyset yet');
    const doc = keysetToJson({ version: newest.version, publicKeys: newest.publicKeys.map(fromHex) });
    const check = keysetFromJson(doc);
    if (!check.ok) throw new Error(check.error);
    return { doc, version: newest.version, keys: newest.publicKeys.length };
  }, Number(v['wait-seconds'] ?? 60) * 1000, 1000);
  await writeFile(v.out, `${JSON.stringify(json.doc, null, 2)}\n`);
  process.stdout.write(`keyset v${json.version} (${json.keys} keys) written to ${v.out}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`keyset-from-gateway: ${(e as Error).message}\n`);
  process.exit(1);
});
