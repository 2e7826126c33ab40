import type { TopicKind } from '../../shared/index';
import type { DeviceMessageHandler } from '../transport/device-transport';
import { handleAck, type AckDeps } from './ack-handler';
import { handleHello, type HelloDeps } from './hello-handler';
import { handleReport, type ReportDeps } from './report-handler';

/** Routes each authorised device message to the handler of its topic kind (SPEC §6). */
export function deviceMessageHandler(deps: HelloDeps & AckDeps & ReportDeps): DeviceMessageHandler {
  const handlers: Partial<Record<TopicKind, (deviceId: string, payload: Uint8Array) => Promise<void>>> = {
    hello: (id, p) => handleHello(deps, id, p),
    ack: (id, p) => handleAck(deps, id, p),
    report: (id, p) => handleReport(deps, id, p),
  };
  return async (deviceId, kind, payload) => {
    const handler = handlers[kind];
    if (handler) await handler(deviceId, payload); // the ACL lets devices publish on these three kinds only
  };
}
