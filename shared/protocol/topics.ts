/** SPEC §6: topics are `pins/v1/{deviceId}/{kind}`. */
export const TOPIC_KINDS = ['hello', 'update', 'keyset', 'ack', 'report'] as const;
export type TopicKind = (typeof TOPIC_KINDS)[number];

/** Kinds a device publishes, and kinds it subscribes to (SPEC §6). */
export const DEVICE_PUBLISHES: readonly TopicKind[] = ['hello', 'ack', 'report'];
export const DEVICE_SUBSCRIBES: readonly TopicKind[] = ['update', 'keyset'];

const TOPIC_PREFIX = 'pins/v1/';
// No '/', '+', '#' or NUL: an id is one topic level and can never act as a wildcard ([MQTT-4.7.1-1]).
const DEVICE_ID = /^[A-Za-z0-9._-]{1,128}$/;

export function isValidDeviceId(id: string): boolean {
  return typeof id === 'string' && DEVICE_ID.test(id);
}

export function topicFor(deviceId: string, kind: TopicKind): string {
  if (!isValidDeviceId(deviceId)) throw new TypeError(`topicFor: "deviceId" ${JSON.stringify(deviceId)} is not a valid device id`);
  return `${TOPIC_PREFIX}${deviceId}/${kind}`;
}

/** The device and kind of a concrete topic, or null when it is not one of ours (wildcards included). */
export function parseTopic(topic: string): { deviceId: string; kind: TopicKind } | null {
  if (typeof topic !== 'string' || !topic.startsWith(TOPIC_PREFIX)) return null;
  const rest = topic.slice(TOPIC_PREFIX.length).split('/');
  if (rest.length !== 2) return null;
  const [deviceId, kind] = rest as [string, string];
  if (!isValidDeviceId(deviceId) || !(TOPIC_KINDS as readonly string[]).includes(kind)) return null;
  return { deviceId, kind: kind as TopicKind };
}
