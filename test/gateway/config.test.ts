import { afterAll, describe, expect, it } from 'vitest';
import { createServer, type AddressInfo } from 'node:net';
import { configFromEnv } from '../../gateway/config/from-env';
import { ConfigError, parseGatewayConfig } from '../../gateway/config/schema';
import { startGateway } from '../../gateway/start';
import { silentLogger } from '../../gateway/logger';
import { removeDir, tempDir } from './helpers/test-gateway';

const problemsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

describe('configuration', () => {
  it('has defaults for everything', () => {
    const config = configFromEnv({});
    expect(config).toMatchObject({
      dataDir: './data',
      http: { host: '127.0.0.1', port: 8080 },
      mqtt: { host: '127.0.0.1', port: 1883 },
      mqtts: { host: '0.0.0.0', port: 8883 },
      tls: null,
      backupPublicKeys: [],
    });
  });

  it('reads PINGW_* variables into the typed config', () => {
    const key = 'ab'.repeat(32);
    const config = configFromEnv({
      PINGW_DATA_DIR: '/var/lib/pingw',
      PINGW_HTTP_PORT: '0',
      PINGW_MQTT_PORT: 'off',
      PINGW_MQTTS_PORT: '9883',
      PINGW_TLS_CERT_FILE: '/etc/c.pem',
      PINGW_TLS_KEY_FILE: '/etc/k.pem',
      PINGW_BACKUP_PUBLIC_KEYS: `${key}, ${key.toUpperCase()}`,
      PINGW_TLS_HOSTNAMES: 'gw.example.com,10.0.0.1',
      HOME: '/root',
    });
    expect(config).toMatchObject({
      dataDir: '/var/lib/pingw',
      http: { port: 0 },
      mqtt: null,
      mqtts: { port: 9883 },
      tls: { certFile: '/etc/c.pem', keyFile: '/etc/k.pem' },
      backupPublicKeys: [key, key.toUpperCase()],
      tlsHostnames: ['gw.example.com', '10.0.0.1'],
    });
  });

  it.each([
    [{ PINGW_HTTP_PORT: 'abc' }, 'PINGW_HTTP_PORT'],
    [{ PINGW_MQTTS_PORT: '70000' }, 'PINGW_MQTTS_PORT'],
    [{ PINGW_MQTT_PORT: '-1' }, 'PINGW_MQTT_PORT'],
    [{ PINGW_BACKUP_PUBLIC_KEYS: 'not-hex' }, 'PINGW_BACKUP_PUBLIC_KEYS'],
    [{ PINGW_TLS_CERT_FILE: '/etc/c.pem' }, 'PINGW_TLS_CERT_FILE/PINGW_TLS_KEY_FILE'],
    [{ PINGW_INGEST_FLUSH_MS: '0' }, 'PINGW_INGEST_FLUSH_MS'],
    [{ PINGW_CREDENTIAL_SCRYPT_N: '1000' }, 'PINGW_CREDENTIAL_SCRYPT_N'],
    [{ PINGW_CREDENTIAL_HASH: 'md5' }, 'PINGW_CREDENTIAL_HASH'],
    // deprecated (issue 17): an scrypt cost beside an explicit fast hash contradicts itself
    [{ PINGW_CREDENTIAL_HASH: 'pbkdf2', PINGW_CREDENTIAL_SCRYPT_N: '4096' }, 'PINGW_CREDENTIAL_SCRYPT_N'],
    [{ PINGW_HTTP_PROT: '8080' }, 'PINGW_HTTP_PROT'],
    [{ PINGW_BROKER_URL: 'mqtt://broker:1883' }, 'PINGW_BROKER_URL'], // devices' traffic crosses the network: TLS only
    [{ PINGW_BROKER_URL: 'mqtts://broker/path' }, 'PINGW_BROKER_URL'],
    [{ PINGW_BROKER_URL: 'mqtts://broker:8883', PINGW_BROKER_CLIENTS: '0' }, 'PINGW_BROKER_CLIENTS'],
    [{ PINGW_BROKER_URL: 'mqtts://broker:8883', PINGW_BROKER_CLIENTS: '9' }, 'PINGW_BROKER_CLIENTS'], // more than the pool (8)
    [{ PINGW_BROKER_URL: 'mqtts://broker:8883', PINGW_BROKER_POOL_SIZE: '0' }, 'PINGW_BROKER_POOL_SIZE'],
    [{ PINGW_BROKER_URL: 'mqtts://broker:8883', PINGW_BROKER_LEASE_MS: '500' }, 'PINGW_BROKER_LEASE_MS'], // renewals every 125 ms
    [{ PINGW_BROKER_URL: 'mqtts://broker:8883', PINGW_BROKER_USERNAME: 'dev-1' }, 'PINGW_BROKER_USERNAME'], // could be a device id
    [{ PINGW_BROKER_URL: 'mqtts://broker:8883', PINGW_BROKER_PASSWORD_FILE: '/etc/mosquitto/passwd' }, 'PINGW_BROKER_PID_FILE'],
    [{ PINGW_BROKER_PASSWORD_FILE: '/etc/mosquitto/passwd' }, 'PINGW_BROKER_PASSWORD_FILE'], // without PINGW_BROKER_URL
  ])('a bad value %j stops start-up naming %s', (env, name) => {
    const problems = problemsOf(() => configFromEnv(env));
    expect(problems.some((p) => p.startsWith(`${name}:`)), problems.join('\n')).toBe(true);
  });

  it('device credentials use the fast PBKDF2 form by default; scrypt and its cost only when asked for (issue 17)', () => {
    expect(configFromEnv({})).toMatchObject({ credentialHash: 'pbkdf2' });
    expect(configFromEnv({}).credentialScryptN).toBeUndefined();
    expect(configFromEnv({ PINGW_CREDENTIAL_HASH: 'scrypt', PINGW_CREDENTIAL_SCRYPT_N: '16384' })).toMatchObject({ credentialHash: 'scrypt', credentialScryptN: 16384 });
    // deprecated alone: accepted (drills and old deployments keep starting), ignored with a warning at start-up
    expect(configFromEnv({ PINGW_CREDENTIAL_SCRYPT_N: '1024' })).toMatchObject({ credentialHash: 'pbkdf2', credentialScryptN: 1024 });
  });

  it('PINGW_DATABASE_URL selects PostgreSQL (unset = the SQLite file); a bad URL is named, never echoed', () => {
    expect(configFromEnv({}).database).toEqual({ url: null, readUrl: null, poolSize: 10 });
    const config = configFromEnv({
      PINGW_DATABASE_URL: 'postgres://gw:s3cret@db.example:5432/pingw',
      PINGW_DATABASE_READ_URL: 'postgresql://gw:s3cret@replica.example/pingw',
      PINGW_DATABASE_POOL_SIZE: '20',
    });
    expect(config.database).toEqual({ url: 'postgres://gw:s3cret@db.example:5432/pingw', readUrl: 'postgresql://gw:s3cret@replica.example/pingw', poolSize: 20 });
    const bad = problemsOf(() => configFromEnv({ PINGW_DATABASE_URL: 'mysql://gw:s3cret@db/x' }));
    expect(bad.some((p) => p.startsWith('PINGW_DATABASE_URL:')), bad.join('\n')).toBe(true);
    expect(bad.join('\n')).not.toContain('s3cret');
    const replicaOnly = problemsOf(() => configFromEnv({ PINGW_DATABASE_READ_URL: 'postgres://r/x' }));
    expect(replicaOnly.some((p) => p.startsWith('PINGW_DATABASE_READ_URL:')), replicaOnly.join('\n')).toBe(true);
  });

  it('PINGW_BROKER_URL switches devices to an external broker; unset keeps the embedded one', () => {
    expect(configFromEnv({}).broker).toBeNull();
    const config = configFromEnv({
      PINGW_BROKER_URL: 'mqtts://mosquitto:8884', PINGW_BROKER_CA_FILE: '/etc/ca.pem', PINGW_BROKER_CLIENTS: '8',
      PINGW_BROKER_PASSWORD_FILE: '/shared/passwd', PINGW_BROKER_PID_FILE: '/shared/mosquitto.pid',
    });
    expect(config.broker).toMatchObject({
      url: 'mqtts://mosquitto:8884', caFile: '/etc/ca.pem', clients: 8, username: 'pingw@gateway', shareGroup: 'pingw',
      passwordFile: '/shared/passwd', pidFile: '/shared/mosquitto.pid', reloadMs: 2000, receiveMaximum: 1000,
      poolSize: 8, leaseMs: 10_000,
    });
    expect(configFromEnv({ PINGW_BROKER_URL: 'mqtts://m:8884', PINGW_BROKER_POOL_SIZE: '16', PINGW_BROKER_LEASE_MS: '3000' }).broker)
      .toMatchObject({ clients: 4, poolSize: 16, leaseMs: 3000 });
  });

  it('reports every bad variable at once', () => {
    const problems = problemsOf(() => configFromEnv({ PINGW_HTTP_PORT: 'x', PINGW_MQTTS_PORT: 'y' }));
    expect(problems).toHaveLength(2);
  });

  it('programmatic configs are validated too, naming the field', () => {
    expect(problemsOf(() => parseGatewayConfig({ http: { port: 1.5 } }))[0]).toMatch(/^http\.port:/);
    expect(problemsOf(() => parseGatewayConfig({ bogus: 1 } as never))[0]).toMatch(/bogus/);
  });

  describe('start-up', () => {
    const dir = tempDir();
    afterAll(() => removeDir(dir));

    it('refuses to start with a bad config before touching the data dir', async () => {
      await expect(startGateway({ dataDir: dir, http: { port: 99999 } }, { logger: silentLogger })).rejects.toThrow(/http\.port/);
    });

    it('names the external broker when it does not accept the gateway in time, and leaves nothing running', async () => {
      const closed = createServer();
      await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
      const { port } = closed.address() as AddressInfo;
      await new Promise<void>((ok) => closed.close(() => ok())); // nothing listens there now
      await expect(
        startGateway(
          { dataDir: `${dir}/ext`, http: { port: 0 }, broker: { url: `mqtts://127.0.0.1:${port}`, connectTimeoutMs: 1000, clients: 1 } },
          { logger: silentLogger },
        ),
      ).rejects.toThrow(`external broker mqtts://127.0.0.1:${port} (PINGW_BROKER_URL): no CONNACK`);
    });

    it('names a TLS file that does not exist', async () => {
      await expect(
        startGateway(
          { dataDir: dir, http: { port: 0 }, mqtt: null, mqtts: { port: 0 }, tls: { certFile: `${dir}/missing.pem`, keyFile: `${dir}/k.pem` } },
          { logger: silentLogger },
        ),
      ).rejects.toThrow(/missing\.pem/);
    });
  });
});
