/**
 * `npm start`: reads the PINGW_* environment variables (config/from-env.ts), starts the gateway and prints where
 * everything is. SIGTERM / SIGINT drain and close cleanly; SIGHUP re-reads the broker TLS certificate and key
 * (key rotation without a restart); a bad setting stops start-up with a message naming it.
 */
import { configFromEnv } from './config/from-env';
import { ConfigError } from './config/schema';
import { startGateway, type RunningGateway } from './start';

async function main(): Promise<void> {
  let gateway: RunningGateway;
  try {
    gateway = await startGateway(configFromEnv(process.env));
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : `gateway failed to start: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
    return;
  }
  const lines = [
    '',
    `pin-update gateway is running`,
    `  Dashboard:  ${gateway.http.url}/  (log in with an API token)`,
    `  API:        ${gateway.http.url}/api  (OpenAPI: ${gateway.http.url}/api/openapi.json)`,
    gateway.broker === 'embedded'
      ? `  MQTT/TLS:   port ${gateway.mqtts.port} on ${gateway.mqtts.host}  (certificate ${gateway.files.tlsCert}${gateway.created.tls ? ', generated now' : ''})`
      : `  MQTT/TLS:   devices use the external broker; the gateway is its backend client at ${gateway.broker} (docs/scale.md)`,
    gateway.mqtt ? `  MQTT (TCP): port ${gateway.mqtt.port} on ${gateway.mqtt.host}  (local tests only)` : '  MQTT (TCP): off',
    `  Metrics:    ${gateway.metrics === null ? 'off' : `${gateway.metrics.url}  (Prometheus text format, no token)`}`,
    `  data dir:   ${gateway.dataDir}`,
    `  registry:   ${gateway.files.database}`,
    `  pid:        ${process.pid}  (SIGHUP: reload the TLS certificate/key files; SIGTERM: drain and stop)`,
    `  admin token file: ${gateway.files.adminToken}${gateway.created.adminToken ? ' (created now, 0600)' : ''}`,
    gateway.signerPublicKey === null
      ? '  signer: none (PINGW_SIGNER=offline): only envelopes signed offline are accepted (pinctl sign, POST /api/pinsets/envelope)'
      : `  signer public key: ${gateway.signerPublicKey}`,
  ];
  if (gateway.files.backupSigner) {
    lines.push(`  WARNING: a backup signer key is in ${gateway.files.backupSigner}: move it offline (set PINGW_BACKUP_PUBLIC_KEYS instead)`);
  }
  console.log(lines.join('\n') + '\n');

  let signals = 0;
  const shutdown = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      console.error(`${signal} again: exiting without draining`);
      process.exit(1);
    }
    console.log(`${signal}: draining and closing…`);
    gateway.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('stop failed', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  // SIGHUP: serve the (replaced) TLS certificate/key files to new MQTT/TLS connections, without a restart
  process.on('SIGHUP', () => {
    gateway.reloadTls().then(
      ({ pin }) => console.log(`SIGHUP: broker TLS key reloaded, now serving ${pin}`),
      (err: unknown) => console.error(`SIGHUP: TLS reload failed, still serving the previous key: ${err instanceof Error ? err.message : String(err)}`),
    );
  });
}

void main();
