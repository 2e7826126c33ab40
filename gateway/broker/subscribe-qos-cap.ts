import type { Client } from 'aedes';

/**
 * The SPEC §6 ACL caps device subscriptions at QoS 1 (the gateway publishes updates at QoS 1 and never runs the
 * QoS 2 handshake). aedes builds the SUBACK from the QoS the client *asked for*, before authorizeSubscribe runs,
 * so a QoS 2 request was granted 2 in the SUBACK ([MQTT-3.9.3-1]: the granted QoS is what the server will
 * deliver at; [MQTT-3.8.4-6] lets the server grant less than asked). This lowers every requested QoS above 1
 * to 1 in the SUBSCRIBE packet itself, before aedes handles it, so the SUBACK says 1 and the subscription is 1.
 *
 * It listens on the client's MQTT parser (`_parser`, aedes 1.x internals, checked by
 * test/hardening/broker-hardening.test.ts), prepended so it runs before aedes' own 'packet' listener.
 */
export function capSubscribeQos(client: Client, maxQos: 0 | 1 = 1): void {
  const parser = (client as unknown as { _parser?: { prependListener(event: 'packet', fn: (p: unknown) => void): void } })._parser;
  if (parser === undefined) throw new Error('aedes client without a parser: the SUBSCRIBE QoS cap cannot be installed');
  parser.prependListener('packet', (packet) => {
    const p = packet as { cmd?: string; subscriptions?: { qos: number }[] };
    if (p.cmd !== 'subscribe' || !Array.isArray(p.subscriptions)) return;
    for (const sub of p.subscriptions) if (sub.qos > maxQos) sub.qos = maxQos;
  });
}
