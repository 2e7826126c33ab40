import type { EmbeddedBroker } from '../broker/embedded-broker';
import type { RevokeSession } from './device-decommission';

/**
 * RevokeSession for the embedded aedes broker: closes the device's connection (client id = device id, SPEC §6).
 * Its next CONNECT fails authentication (device-acl refuses a decommissioned device, CONNACK 5).
 */
export function embeddedSessionRevoker(broker: EmbeddedBroker): RevokeSession {
  return (deviceId) => {
    const clients = (broker.aedes as unknown as { clients: Record<string, { close(): void } | undefined> }).clients;
    const client = clients[deviceId];
    if (client === undefined) return false;
    client.close();
    return true;
  };
}
