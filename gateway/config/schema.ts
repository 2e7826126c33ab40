import { z } from 'zod';
import { validateWindows } from '../rollout-engine/maintenance-window';

const port = z.coerce.number().int().min(0).max(65535);
const host = z.string().min(1);
const hexKey = z.string().regex(/^[0-9a-fA-F]{64}$/, 'expected a 32-byte Ed25519 public key in hex (64 characters)');

const listener = (defaultHost: string, defaultPort: number) =>
  z.object({ host: host.default(defaultHost), port: port.default(defaultPort) }).prefault({});

const externalBroker = z
  .object({
    /** mqtts://host:port of the broker; TLS only: device and gateway traffic crosses the network. */
    url: z
      .string()
      .regex(/^mqtts:\/\/[^/?#@]+$/, 'expected mqtts://host[:port]')
      .refine((u) => URL.canParse(u) && new URL(u).hostname !== '', 'expected mqtts://host[:port]'),
    /** CA certificate(s) (PEM) that issued the broker's certificate; absent = the system CAs. */
    caFile: z.string().min(1).nullable().default(null),
    /** The gateway's own user name at the broker; the '@' keeps it apart from every device id (SPEC §6 ids have none). */
    username: z.string().regex(/^[A-Za-z0-9._-]+@[A-Za-z0-9._-]+$/, 'expected name@realm (an "@" keeps it apart from device ids)').default('pingw@gateway'),
    /** File holding the gateway's broker secret; created (0600, 256 random bits) when missing. Default dataDir/broker/gateway.secret. */
    secretFile: z.string().min(1).nullable().default(null),
    /**
     * Mosquitto password file the gateway writes (devices + its own user), atomically, then SIGHUPs the broker.
     * null = the broker's credentials are managed elsewhere (e.g. EMQX reading the registry, docs/scale.md).
     */
    passwordFile: z.string().min(1).nullable().default(null),
    /** Mosquitto's pid_file: the process that gets SIGHUP after the password file changed. */
    pidFile: z.string().min(1).nullable().default(null),
    /** At most one password-file rewrite + reload per this many ms (a reload of 100k users stalls Mosquitto ~0.8 s). */
    reloadMs: z.coerce.number().int().min(100).max(60_000).default(2000),
    /** Backend connections per gateway process when the pool is split evenly (its share of the pool's client ids). */
    clients: z.coerce.number().int().min(1).max(64).default(4),
    /**
     * Client ids of the whole pool, the same on every replica (`{prefix}-0…poolSize−1`, each a persistent session at
     * the broker). Leased through the registry: survivors take over a dead replica's ids (docs/scale.md).
     */
    poolSize: z.coerce.number().int().min(1).max(256).default(8),
    /** Lease on a client id; a dead replica's ids are taken over at most this long (+ one renewal period) after it died. */
    leaseMs: z.coerce.number().int().min(1000).max(300_000).default(10_000),
    /** Shared-subscription group: every replica joins the same group, so each device message goes to one of them. */
    shareGroup: z.string().regex(/^[A-Za-z0-9_-]+$/).default('pingw'),
    /** Backend client ids are `${clientIdPrefix}-${i}`. */
    clientIdPrefix: z.string().regex(/^[A-Za-z0-9_@.-]+$/).default('pingw@backend'),
    /** Unacknowledged device messages one backend connection accepts at once (MQTT 5 Receive Maximum). */
    receiveMaximum: z.coerce.number().int().min(1).max(65535).default(1000),
    /** Start-up fails, naming the broker, when the backend connections are not up within this time. */
    connectTimeoutMs: z.coerce.number().int().min(500).max(300_000).default(15_000),
  })
  .strict()
  .refine((b) => (b.passwordFile === null) === (b.pidFile === null), {
    message: 'give the broker password file and pid file together (PINGW_BROKER_PASSWORD_FILE + PINGW_BROKER_PID_FILE)',
    path: ['pidFile'],
  })
  .refine((b) => b.clients <= b.poolSize, {
    message: 'a replica cannot hold more client ids than the pool has (PINGW_BROKER_CLIENTS ≤ PINGW_BROKER_POOL_SIZE)',
    path: ['clients'],
  });

/**
 * The gateway's typed configuration. Every field has a default except the ones that only make sense when given:
 * a fresh `startGateway(parseGatewayConfig({}))` runs with ./data and the standard ports.
 */
export const gatewayConfigSchema = z
  .object({
    /** Everything the gateway creates lives here: SQLite file, keys, TLS material, admin token. */
    dataDir: z.string().min(1).default('./data'),
    http: listener('127.0.0.1', 8080),
    /** Plain MQTT over TCP, meant for local tests and simulators; null turns it off. */
    mqtt: z.union([z.null(), listener('127.0.0.1', 1883)]).prefault({}),
    /** MQTT over TLS for devices. */
    mqtts: listener('0.0.0.0', 8883),
    /** Broker certificate and key (PEM). When absent the gateway generates a self-signed pair in dataDir/tls/. */
    tls: z.object({ certFile: z.string().min(1), keyFile: z.string().min(1) }).nullable().default(null),
    /** Subject alternative names written into a generated broker certificate. */
    tlsHostnames: z.array(z.string().min(1)).min(1).default(['localhost', '127.0.0.1']),
    /** Gateway signer key file (PKCS#8 PEM as `pinctl keygen` writes; bare hex accepted); created 0600 when missing. Default dataDir/signer.key. */
    signerKeyFile: z.string().min(1).nullable().default(null),
    /**
     * `gateway`: the gateway holds a private signer key (signerKeyFile) and signs JSON pin sets itself.
     * `offline`: no private key at all; only envelopes signed offline (`pinctl sign`) are accepted.
     */
    signer: z.enum(['gateway', 'offline']).default('gateway'),
    /** The first keyset (the JSON `pinctl keyset` writes), used when the registry holds none; required with signer `offline`. */
    keysetFile: z.string().min(1).nullable().default(null),
    /**
     * Prometheus /metrics (text format, no token). port `http`: on the API's listener; `off`: not served; a number:
     * a listener of its own on `host` (e.g. an interface only the monitoring network reaches).
     */
    metrics: z
      .object({ host: host.default('127.0.0.1'), port: z.union([z.enum(['http', 'off']), port]).default('http') })
      .prefault({}),
    /**
     * Maintenance windows per fleet: {"fleet": {"timeZone": "Europe/Berlin", "weekly": ["Tue,Thu 02:00-05:00"]}}.
     * Waves of that fleet's new rollouts start only inside them (the engine validates the ranges at start-up).
     */
    maintenanceWindows: z
      .record(z.string().min(1), z.object({ timeZone: z.string(), weekly: z.array(z.string()).min(1) }).strict())
      .superRefine((v, ctx) => {
        for (const [fleet, w] of Object.entries(v)) {
          for (const message of validateWindows(w)) ctx.addIssue({ code: 'custom', path: [fleet], message });
        }
      })
      .default({}),
    /** Offline backup signer public keys for the first keyset (SPEC §5: at least two keys). */
    backupPublicKeys: z.array(hexKey).default([]),
    /** Admin API token file (0600). Default dataDir/admin.token. */
    adminTokenFile: z.string().min(1).nullable().default(null),
    /** Operator dashboard session cookies: Secure (and __Host-) when browsers reach the gateway over https. */
    dashboardSecureCookies: z
      .union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')])
      .default(false),
    /** Timeout of the server-side live check of each enforced host (SPEC §4 E_WOULD_BRICK). */
    liveCheckTimeoutMs: z.coerce.number().int().min(100).max(60_000).default(3000),
    /** notAfter = issuedAt + this many days when a pin-set JSON does not give notAfter. */
    pinsetValidityDays: z.coerce.number().int().min(1).max(3650).default(90),
    /** Batched ingestion of acks/reports: flush every flushMs or when maxRows are buffered. */
    ingest: z
      .object({
        flushMs: z.coerce.number().int().min(1).max(1000).default(5),
        maxRows: z.coerce.number().int().min(1).max(100_000).default(1000),
      })
      .prefault({}),
    /** A malformed message is logged at most once per device per window. */
    malformedLogWindowMs: z.coerce.number().int().min(0).default(60_000),
    /**
     * Staged rollouts (SPEC §7): the driver's tick and the defaults each new rollout starts with (a rollout keeps
     * the settings it was created with, in its snapshot; POST /api/rollouts may override them per rollout).
     */
    rollouts: z
      .object({
        /** The driver runs each active rollout's step at its next wake-up, and at least this often. */
        tickMs: z.coerce.number().int().min(10).max(60_000).default(1000),
        /** Rate limit: at most this many deliveries per second per rollout (token bucket). */
        ratePerSecond: z.coerce.number().min(0.001).max(100_000).default(50),
        /** Bucket size: deliveries that may leave at once. */
        rateBurst: z.coerce.number().int().min(1).max(1_000_000).default(50),
        /** DELIVERED without an "applied" ack for this long = a failed attempt (retried with backoff). */
        deliveryTimeoutMs: z.coerce.number().int().min(1000).max(86_400_000).default(120_000),
        /** APPLIED without "verified" for this long = TIMED_OUT. */
        verifyTimeoutMs: z.coerce.number().int().min(1000).max(604_800_000).default(600_000),
        /** Soak: how long a wave's success gate must hold before the next wave starts (SPEC §7), unless a rollout sets gates.soakMs. */
        soakMs: z.coerce.number().int().min(0).max(7 * 24 * 3_600_000).default(600_000),
        /** Deliveries per device before TIMED_OUT. */
        maxAttempts: z.coerce.number().int().min(1).max(100).default(5),
      })
      .prefault({}),
    /** Pin lifecycle watches (issue 16): drift watch schedule, Certificate Transparency logs. */
    lifecycle: z
      .object({
        /** Drift watch: between two scheduled runs; 0 = on demand only. */
        driftIntervalMs: z.coerce.number().int().min(0).max(86_400_000).default(300_000),
        /** RFC 6962 log base URLs (…/ct/v1/ is appended); empty = CT watch off. */
        ctLogs: z.array(z.string().regex(/^https?:\/\/\S+( key=[A-Za-z0-9+/]+={0,2})?$/, 'expected "URL" or "URL key=BASE64-SPKI"')).default([]),
        /** CT watch: between two scheduled runs; 0 = on demand only. */
        ctIntervalMs: z.coerce.number().int().min(0).max(86_400_000).default(3_600_000),
        /**
         * Where the gateway's own TLS probes (live check, drift watch) connect for a host name, like curl --resolve:
         * host → address. For split-horizon DNS or a probe through the internal address; SNI stays the host name.
         */
        probeResolve: z.record(z.string().regex(/^[a-z0-9.-]+$/, 'expected a lower-case host name'), z.string().min(1)).default({}),
      })
      .prefault({}),
    /** Webhooks out: attempts per delivery, exponential backoff (base, cap) and the per-request timeout. */
    webhooks: z
      .object({
        maxAttempts: z.coerce.number().int().min(1).max(50).default(8),
        backoffMs: z.coerce.number().int().min(10).max(3_600_000).default(30_000),
        backoffMaxMs: z.coerce.number().int().min(10).max(86_400_000).default(3_600_000),
        timeoutMs: z.coerce.number().int().min(100).max(60_000).default(5000),
      })
      .prefault({}),
    /**
     * The registry: unset = the embedded SQLite file in dataDir; `postgres://…` = PostgreSQL (docs/postgres.md),
     * migrated at start-up. `readUrl` (a streaming replica) serves the reads that tolerate lag; never the rotation gate.
     */
    database: z
      .object({
        url: z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'expected a postgres:// or postgresql:// URL').nullable().default(null),
        readUrl: z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'expected a postgres:// or postgresql:// URL').nullable().default(null),
        /** Connections per pool (the primary's, and the replica's when readUrl is set). */
        poolSize: z.coerce.number().int().min(1).max(500).default(10),
      })
      .refine((d) => d.readUrl === null || d.url !== null, { message: 'a read replica needs the primary (PINGW_DATABASE_URL) too', path: ['readUrl'] })
      .prefault({}),
    /**
     * Replicas (docs/scale.md "Replicas"): how often leader election polls its lock, and how long a leader may go
     * unconfirmed (frozen, its lock session quiet) before the database frees the lock and it steps down itself.
     */
    leader: z
      .object({
        pollMs: z.coerce.number().int().min(50).max(60_000).default(1000),
        stallMs: z.coerce.number().int().min(200).max(600_000).default(5000),
      })
      .refine((l) => l.stallMs >= 2 * l.pollMs, { message: 'the stall bound must be at least twice the poll interval', path: ['stallMs'] })
      .prefault({}),
    /**
     * An external MQTT broker carries device traffic instead of the embedded one (docs/scale.md); null = embedded.
     * The gateway connects to it as an MQTT 5 backend client.
     */
    broker: externalBroker.nullable().default(null),
    /**
     * How new device credentials are hashed (issue 17, docs/SECURITY.md "Device credential hashing"): `pbkdf2` is
     * the `$7$` PBKDF2-SHA512 form with 101 iterations (fast: device secrets are 256 random bits, so guessing costs
     * 2^255 tries whatever the hash cost), and older scrypt hashes are re-hashed into it after a log-in; `scrypt`
     * keeps the pre-issue-17 scrypt form at credentialScryptN for new enrolments and re-hashes nothing.
     */
    credentialHash: z.enum(['pbkdf2', 'scrypt']).default('pbkdf2'),
    /**
     * Deprecated (issue 17): the scrypt cost N, meaningful only with credentialHash `scrypt` (default there 4096).
     * Without it the gateway starts and warns that the value is ignored; with an explicit PINGW_CREDENTIAL_HASH=pbkdf2
     * it is a configuration error (config/from-env.ts). Stored hashes carry their own N, so old ones verify anyway.
     */
    credentialScryptN: z.coerce
      .number()
      .int()
      .refine((n) => n >= 1024 && (n & (n - 1)) === 0, 'expected a power of two ≥ 1024')
      .optional(),
  })
  .strict();

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid gateway configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Validates a programmatic configuration; throws ConfigError naming each bad field. */
export function parseGatewayConfig(input: GatewayConfigInput, nameOf: (path: string) => string = (p) => p): GatewayConfig {
  const result = gatewayConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => `${nameOf(issue.path.map(String).join('.')) || '(config)'}: ${issue.message}`),
  );
}
