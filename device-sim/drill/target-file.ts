/**
 * The file that tells the drill where a running scale set-up is (`npm run drill -- --target FILE`): written by
 * scripts/scale-local.ts once the set-up is up (`<dir>/drill-target.json`), rewritten after `kill N` / `restart N`,
 * removed at stop. One definition of the format, used by both sides (docs/drill.md "Against a running scale
 * set-up"). Everything in it is something an operator of that set-up has: API URLs, the admin token file, where
 * devices connect, and the broker's device-listener key files with the pid that reloads them.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';

export const DRILL_TARGET_KIND = 'pingw-scale-target';

export const drillTargetSchema = z.object({
  kind: z.literal(DRILL_TARGET_KIND),
  version: z.literal(1),
  /** Every replica's base URL (`http://127.0.0.1:18080`, no `/api`), in replica order; any of them serves the whole API. */
  apiUrls: z.array(z.url()).min(1),
  /** The admin API token (mode 0600), shared by the replicas. */
  adminTokenFile: z.string().min(1),
  broker: z.object({
    /** Where devices connect: MQTT over TLS, the broker's device listener. */
    host: z.string().min(1),
    devicePort: z.number().int().min(1).max(65535),
    /** The CA of the certificate the broker serves at start (devices that do not pin it yet validate with it). */
    caFile: z.string().min(1),
    /** The device listener's certificate and key: replaced to rotate the key devices pin, then `pid` gets SIGHUP. */
    deviceCertFile: z.string().min(1),
    deviceKeyFile: z.string().min(1),
    /** Mosquitto's pid: SIGHUP reloads the listeners' certificates (mosquitto(8)) and the password file. */
    pid: z.number().int().positive(),
  }),
  /** The replicas as the set-up knows them (pid null: killed, not restarted). For people; the drill needs apiUrls. */
  replicas: z.array(z.object({ index: z.number().int(), apiUrl: z.string(), pid: z.number().int().nullable() })),
});

export type DrillTargetFile = z.infer<typeof drillTargetSchema>;

/** Reads and checks the file; a missing or malformed file is an error naming the file and the field. */
export function readDrillTarget(file: string): DrillTargetFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`--target ${file}: ${(e as Error).message} (is the scale set-up running? scripts/scale-local.ts writes it)`);
  }
  const parsed = drillTargetSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new Error(`--target ${file}: not a drill target file (${first?.path.join('.') || 'top'}: ${first?.message ?? 'invalid'})`);
  }
  return parsed.data;
}

/** Writes the file atomically (temporary file + rename): a drill starting meanwhile never reads half of it. */
export function writeDrillTarget(file: string, t: DrillTargetFile): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(drillTargetSchema.parse(t), null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}
