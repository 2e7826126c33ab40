import { ConfigError, parseGatewayConfig, type GatewayConfig, type GatewayConfigInput } from './schema';

type Env = Readonly<Record<string, string | undefined>>;

const list = (v: string) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);

/** Environment variables and where each lands in GatewayConfig. */
export const ENV_VARS = {
  PINGW_DATA_DIR: 'dataDir',
  PINGW_HTTP_HOST: 'http.host',
  PINGW_HTTP_PORT: 'http.port',
  PINGW_MQTT_HOST: 'mqtt.host',
  PINGW_MQTT_PORT: 'mqtt.port',
  PINGW_MQTTS_HOST: 'mqtts.host',
  PINGW_MQTTS_PORT: 'mqtts.port',
  PINGW_TLS_CERT_FILE: 'tls.certFile',
  PINGW_TLS_KEY_FILE: 'tls.keyFile',
  PINGW_TLS_HOSTNAMES: 'tlsHostnames',
  PINGW_SIGNER_KEY_FILE: 'signerKeyFile',
  PINGW_SIGNER: 'signer',
  PINGW_MAINTENANCE_WINDOWS: 'maintenanceWindows',
  PINGW_METRICS_HOST: 'metrics.host',
  PINGW_METRICS_PORT: 'metrics.port',
  PINGW_KEYSET_FILE: 'keysetFile',
  PINGW_BACKUP_PUBLIC_KEYS: 'backupPublicKeys',
  PINGW_ADMIN_TOKEN_FILE: 'adminTokenFile',
  PINGW_DASHBOARD_SECURE_COOKIES: 'dashboardSecureCookies',
  PINGW_LIVE_CHECK_TIMEOUT_MS: 'liveCheckTimeoutMs',
  PINGW_PINSET_VALIDITY_DAYS: 'pinsetValidityDays',
  PINGW_INGEST_FLUSH_MS: 'ingest.flushMs',
  PINGW_INGEST_MAX_ROWS: 'ingest.maxRows',
  PINGW_MALFORMED_LOG_WINDOW_MS: 'malformedLogWindowMs',
  PINGW_CREDENTIAL_HASH: 'credentialHash',
  PINGW_CREDENTIAL_SCRYPT_N: 'credentialScryptN',
  PINGW_ROLLOUT_TICK_MS: 'rollouts.tickMs',
  PINGW_ROLLOUT_RATE: 'rollouts.ratePerSecond',
  PINGW_ROLLOUT_BURST: 'rollouts.rateBurst',
  PINGW_ROLLOUT_DELIVERY_TIMEOUT_MS: 'rollouts.deliveryTimeoutMs',
  PINGW_ROLLOUT_VERIFY_TIMEOUT_MS: 'rollouts.verifyTimeoutMs',
  PINGW_ROLLOUT_MAX_ATTEMPTS: 'rollouts.maxAttempts',
  PINGW_DRIFT_INTERVAL_MS: 'lifecycle.driftIntervalMs',
  PINGW_CT_LOGS: 'lifecycle.ctLogs',
  PINGW_CT_INTERVAL_MS: 'lifecycle.ctIntervalMs',
  PINGW_PROBE_RESOLVE: 'lifecycle.probeResolve',
  PINGW_ROLLOUT_SOAK_MS: 'rollouts.soakMs',
  PINGW_WEBHOOK_MAX_ATTEMPTS: 'webhooks.maxAttempts',
  PINGW_WEBHOOK_BACKOFF_MS: 'webhooks.backoffMs',
  PINGW_WEBHOOK_BACKOFF_MAX_MS: 'webhooks.backoffMaxMs',
  PINGW_WEBHOOK_TIMEOUT_MS: 'webhooks.timeoutMs',
  PINGW_DATABASE_URL: 'database.url',
  PINGW_DATABASE_READ_URL: 'database.readUrl',
  PINGW_DATABASE_POOL_SIZE: 'database.poolSize',
  PINGW_LEADER_POLL_MS: 'leader.pollMs',
  PINGW_LEADER_STALL_MS: 'leader.stallMs',
  PINGW_BROKER_URL: 'broker.url',
  PINGW_BROKER_CA_FILE: 'broker.caFile',
  PINGW_BROKER_USERNAME: 'broker.username',
  PINGW_BROKER_SECRET_FILE: 'broker.secretFile',
  PINGW_BROKER_PASSWORD_FILE: 'broker.passwordFile',
  PINGW_BROKER_PID_FILE: 'broker.pidFile',
  PINGW_BROKER_RELOAD_MS: 'broker.reloadMs',
  PINGW_BROKER_CLIENTS: 'broker.clients',
  PINGW_BROKER_POOL_SIZE: 'broker.poolSize',
  PINGW_BROKER_LEASE_MS: 'broker.leaseMs',
  PINGW_BROKER_SHARE_GROUP: 'broker.shareGroup',
  PINGW_BROKER_CLIENT_ID_PREFIX: 'broker.clientIdPrefix',
  PINGW_BROKER_RECEIVE_MAXIMUM: 'broker.receiveMaximum',
  PINGW_BROKER_CONNECT_TIMEOUT_MS: 'broker.connectTimeoutMs',
} as const;

const BROKER_VARS = Object.keys(ENV_VARS).filter((n) => n.startsWith('PINGW_BROKER_') && n !== 'PINGW_BROKER_URL') as (keyof typeof ENV_VARS)[];

function envNameOf(path: string): string {
  for (const [name, p] of Object.entries(ENV_VARS)) {
    if (path === p || path.startsWith(p + '.')) return name;
  }
  if (path === 'tls') return 'PINGW_TLS_CERT_FILE/PINGW_TLS_KEY_FILE';
  return path;
}

/**
 * Reads the PINGW_* environment variables into a validated GatewayConfig. Unknown PINGW_* names and bad values
 * throw a ConfigError whose lines name the variable.
 */
export function configFromEnv(env: Env): GatewayConfig {
  const problems: string[] = [];
  for (const name of Object.keys(env)) {
    if (name.startsWith('PINGW_') && !(name in ENV_VARS)) problems.push(`${name}: unknown setting`);
  }
  const get = (name: keyof typeof ENV_VARS): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const input: Record<string, unknown> = {};
  const set = (name: keyof typeof ENV_VARS, value: unknown) => {
    if (value === undefined) return;
    const path = ENV_VARS[name].split('.');
    let node = input;
    for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    node[path[path.length - 1]!] = value;
  };
  set('PINGW_DATA_DIR', get('PINGW_DATA_DIR'));
  set('PINGW_HTTP_HOST', get('PINGW_HTTP_HOST'));
  set('PINGW_HTTP_PORT', get('PINGW_HTTP_PORT'));
  if (get('PINGW_MQTT_PORT') === 'off') {
    input['mqtt'] = null;
  } else {
    set('PINGW_MQTT_HOST', get('PINGW_MQTT_HOST'));
    set('PINGW_MQTT_PORT', get('PINGW_MQTT_PORT'));
  }
  set('PINGW_MQTTS_HOST', get('PINGW_MQTTS_HOST'));
  set('PINGW_MQTTS_PORT', get('PINGW_MQTTS_PORT'));
  const cert = get('PINGW_TLS_CERT_FILE');
  const key = get('PINGW_TLS_KEY_FILE');
  if ((cert === undefined) !== (key === undefined)) {
    problems.push('PINGW_TLS_CERT_FILE/PINGW_TLS_KEY_FILE: give both or neither');
  } else if (cert !== undefined && key !== undefined) {
    input['tls'] = { certFile: cert, keyFile: key };
  }
  const hostnames = get('PINGW_TLS_HOSTNAMES');
  if (hostnames !== undefined) set('PINGW_TLS_HOSTNAMES', list(hostnames));
  set('PINGW_SIGNER_KEY_FILE', get('PINGW_SIGNER_KEY_FILE'));
  set('PINGW_SIGNER', get('PINGW_SIGNER'));
  const windows = get('PINGW_MAINTENANCE_WINDOWS');
  if (windows !== undefined) {
    try {
      set('PINGW_MAINTENANCE_WINDOWS', JSON.parse(windows) as unknown);
    } catch {
      problems.push('PINGW_MAINTENANCE_WINDOWS: not JSON (e.g. {"fleet-a":{"timeZone":"Europe/Berlin","weekly":["Tue 02:00-05:00"]}})');
    }
  }
  set('PINGW_METRICS_HOST', get('PINGW_METRICS_HOST'));
  set('PINGW_METRICS_PORT', get('PINGW_METRICS_PORT'));
  set('PINGW_KEYSET_FILE', get('PINGW_KEYSET_FILE'));
  const backups = get('PINGW_BACKUP_PUBLIC_KEYS');
  if (backups !== undefined) set('PINGW_BACKUP_PUBLIC_KEYS', list(backups));
  set('PINGW_ADMIN_TOKEN_FILE', get('PINGW_ADMIN_TOKEN_FILE'));
  set('PINGW_DASHBOARD_SECURE_COOKIES', get('PINGW_DASHBOARD_SECURE_COOKIES'));
  set('PINGW_LIVE_CHECK_TIMEOUT_MS', get('PINGW_LIVE_CHECK_TIMEOUT_MS'));
  set('PINGW_PINSET_VALIDITY_DAYS', get('PINGW_PINSET_VALIDITY_DAYS'));
  set('PINGW_INGEST_FLUSH_MS', get('PINGW_INGEST_FLUSH_MS'));
  set('PINGW_INGEST_MAX_ROWS', get('PINGW_INGEST_MAX_ROWS'));
  set('PINGW_MALFORMED_LOG_WINDOW_MS', get('PINGW_MALFORMED_LOG_WINDOW_MS'));
  set('PINGW_CREDENTIAL_HASH', get('PINGW_CREDENTIAL_HASH'));
  set('PINGW_CREDENTIAL_SCRYPT_N', get('PINGW_CREDENTIAL_SCRYPT_N'));
  // deprecated (issue 17): an scrypt cost beside an explicit fast hash contradicts itself (alone it is ignored, warned at start)
  if (get('PINGW_CREDENTIAL_SCRYPT_N') !== undefined && get('PINGW_CREDENTIAL_HASH') === 'pbkdf2') {
    problems.push('PINGW_CREDENTIAL_SCRYPT_N: only with PINGW_CREDENTIAL_HASH=scrypt (deprecated; device credentials use PBKDF2 by default)');
  }
  set('PINGW_DATABASE_URL', get('PINGW_DATABASE_URL'));
  set('PINGW_DATABASE_READ_URL', get('PINGW_DATABASE_READ_URL'));
  set('PINGW_DATABASE_POOL_SIZE', get('PINGW_DATABASE_POOL_SIZE'));
  set('PINGW_LEADER_POLL_MS', get('PINGW_LEADER_POLL_MS'));
  set('PINGW_LEADER_STALL_MS', get('PINGW_LEADER_STALL_MS'));
  if (get('PINGW_BROKER_URL') !== undefined) {
    for (const name of ['PINGW_BROKER_URL', ...BROKER_VARS] as const) set(name, get(name));
  } else {
    for (const name of BROKER_VARS) if (get(name) !== undefined) problems.push(`${name}: only with PINGW_BROKER_URL`);
  }
  for (const name of [
    'PINGW_ROLLOUT_TICK_MS',
    'PINGW_ROLLOUT_RATE',
    'PINGW_ROLLOUT_BURST',
    'PINGW_ROLLOUT_DELIVERY_TIMEOUT_MS',
    'PINGW_ROLLOUT_VERIFY_TIMEOUT_MS',
    'PINGW_ROLLOUT_MAX_ATTEMPTS',
    'PINGW_ROLLOUT_SOAK_MS',
    'PINGW_WEBHOOK_MAX_ATTEMPTS',
    'PINGW_WEBHOOK_BACKOFF_MS',
    'PINGW_WEBHOOK_BACKOFF_MAX_MS',
    'PINGW_WEBHOOK_TIMEOUT_MS',
  ] as const) {
    set(name, get(name));
  }
  set('PINGW_DRIFT_INTERVAL_MS', get('PINGW_DRIFT_INTERVAL_MS'));
  const ctLogs = get('PINGW_CT_LOGS');
  if (ctLogs !== undefined) set('PINGW_CT_LOGS', list(ctLogs));
  set('PINGW_CT_INTERVAL_MS', get('PINGW_CT_INTERVAL_MS'));
  const resolveList = get('PINGW_PROBE_RESOLVE');
  if (resolveList !== undefined) {
    const pairs = list(resolveList).map((item) => item.split('='));
    if (pairs.some((p) => p.length !== 2)) problems.push('PINGW_PROBE_RESOLVE: expected host=address[,host=address…]');
    else set('PINGW_PROBE_RESOLVE', Object.fromEntries(pairs.map(([h, a]) => [(h ?? '').toLowerCase(), a])));
  }

  try {
    const config = parseGatewayConfig(input as GatewayConfigInput, envNameOf);
    if (problems.length > 0) throw new ConfigError(problems);
    return config;
  } catch (err) {
    if (err instanceof ConfigError) {
      const withValue = err.problems.map((p) => {
        const name = p.slice(0, p.indexOf(':'));
        // database URLs may carry a password: never echoed
        if (name.startsWith('PINGW_DATABASE_') && name !== 'PINGW_DATABASE_POOL_SIZE') return p;
        return name in ENV_VARS && env[name] !== undefined ? `${p} (got ${JSON.stringify(env[name])})` : p;
      });
      throw new ConfigError([...problems, ...withValue]);
    }
    throw err;
  }
}
