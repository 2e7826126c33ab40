
/** A device as the API shows it (never the credential hash). */
export function deviceView(d: DeviceRow) {
  return {
    deviceId: d.id,
    fleet: d.fleet,
    deviceClass: d.deviceClass,
    labels: d.labels,
    firmware: d.firmware,
    online: d.online,
    lastSeen: d.lastSeen,
    installedSeq: d.installedSeq,
    installedSha256: d.installedSha256,
    verifiedSeq: d.verifiedSeq,
    keysetVersion: d.keysetVersion,
    assignedPinsetId: d.assignedPinSetId,
    flagged: d.flaggedReason === null ? null : { reason: d.flaggedReason, at: d.flaggedAt, count: d.flagCount },
    decommissioned: d.decommissioned,
    createdAt: d.createdAt,
  };
}import type { DeviceRow } from '../registry/rows';

