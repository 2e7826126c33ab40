/**
 * Device answers, parsed with the API contract (gateway/api-contract `devices`), as the pages show them. Typed end
 * to end: no field is guessed at (issue 15; replaces normalize.ts's toDevice / toDeviceDetail).
 */
import type { z } from 'zod';
import type { devices } from '../../api-contract/index';
import type { Device, DeviceDetail, HistoryEntry } from './api-types';

type ApiDevice = z.infer<typeof devices.device>;
type ApiDeviceDetail = z.infer<typeof devices.deviceDetail>;

export function toDeviceView(d: ApiDevice): Device {
  return {
    deviceId: d.deviceId,
    fleet: d.fleet,
    deviceClass: d.deviceClass,
    labels: d.labels,
    firmware: d.firmware,
    online: d.online,
    lastSeen: d.lastSeen,
    installedSeq: d.installedSeq,
    verifiedSeq: d.verifiedSeq,
    keysetVersion: d.keysetVersion,
    state: null,
    flaggedReason: d.flagged?.reason ?? null,
    decommissioned: d.decommissioned,
    execution: d.execution ?? null,
  };
}

export function toDeviceDetailView(d: ApiDeviceDetail): DeviceDetail {
  const history: HistoryEntry[] = d.history.map((h) =>
    h.type === 'ack'
      ? { kind: 'ack', at: h.at, seq: h.seq, status: h.status, code: h.code, sha256: h.sha256 }
      : { kind: 'report', at: h.at, host: h.host, port: h.port, result: h.result, servedPins: h.servedPins, installedSeq: h.installedSeq },
  );
  history.sort((a, b) => b.at - a.at);
  const rollouts = d.rollouts.map((r) => ({
    id: r.id,
    seq: r.seq,
    state: r.state,
    wave: r.wave,
    kind: r.execution.kind,
    code: r.execution.kind === 'REJECTED' ? r.execution.code : null,
  }));
  const sec = d.security ?? null;
  const security =
    sec === null
      ? null
      : {
          authFailures: sec.authFailures,
          throttled: sec.throttled,
          lastFailureAt: sec.lastFailureAt ?? null,
          lastFailureFrom: sec.lastFailureFrom ?? null,
          takeovers: sec.takeovers,
          lastTakeoverAt: sec.lastTakeoverAt ?? null,
          lastTakeoverFrom: sec.lastTakeoverFrom ?? null,
          reportsDropped: sec.reportsDropped ?? null,
        };
  return { ...toDeviceView(d), history, rollouts, security };
}
