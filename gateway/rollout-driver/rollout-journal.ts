import type { AuditRepo } from '../registry/repositories';
import type { BrowserEventStream } from '../events/browser-event-stream';
import type { RolloutNote, RolloutSnapshot, RolloutState } from '../rollout-engine/index';
import type { Logger } from '../logger';
import type { EventBus } from '../events/event-bus';

/** What a state carries besides its kind, for the audit entry (wave, pause or abort reason). */
function stateDetail(s: RolloutState): Record<string, unknown> {
  switch (s.kind) {
    case 'RUNNING':
      return { wave: s.wave };
    case 'PAUSED':
      return { wave: s.wave, reason: s.reason };
    case 'ABORTED':
      return { reason: s.reason };
    default:
      return {};
  }
}

/**
 * Writes what the engine's notes say happened: every state transition and wave change is audit-logged (actor =
 * the operator for commands, 'gateway' for gates and timers) and announced on the event hub. Late joiners are
 * summarised in one entry per commit, execution changes only announced (coalesced counts).
 */
export class RolloutJournal {
  constructor(
    private readonly deps: { audit: AuditRepo; hub: BrowserEventStream; logger: Logger; events?: EventBus },
  ) {}

  /**
   * `commandAudited`: an operator command already wrote its own audit entry (rollout.<command> with from/to and the
   * reason), so its state transition is not written a second time as rollout.state (issue 15: one entry per action).
   */
  async record(actor: string, rollout: RolloutSnapshot, notes: readonly RolloutNote[], onExecutionsChanged: () => void, commandAudited = false): Promise<void> {
    const { audit, hub, logger } = this.deps;
    const joined: string[] = [];
    let executions = false;
    for (const n of notes) {
      switch (n.type) {
        case 'state': {
          const detail = { from: n.from, to: n.to, event: n.event, ...stateDetail(rollout.state) };
          if (!commandAudited) await audit.append(actor, 'rollout.state', rollout.id, detail);
          logger.info('rollout state', { rollout: rollout.id, fleet: rollout.fleet, ...detail });
          hub.publish({ type: 'rollout', id: rollout.id, fleet: rollout.fleet, state: n.to, from: n.from, event: n.event });
          this.deps.events?.emit('rolloutState', {
            rolloutId: rollout.id, fleet: rollout.fleet, seq: rollout.seq, from: n.from, to: n.to, event: n.event,
            detail: stateDetail(rollout.state), actor, at: n.at,
          });
          break;
        }
        case 'wave-started':
          await audit.append(actor, 'rollout.wave', rollout.id, { wave: n.wave, enrolled: n.enrolled });
          hub.publish({ type: 'rollout', id: rollout.id, fleet: rollout.fleet, state: rollout.state.kind, wave: n.wave });
          break;
        case 'wave-skipped':
          await audit.append(actor, 'rollout.wave', rollout.id, { wave: n.wave, enrolled: 0, skipped: true });
          break;
        case 'enrolled':
          joined.push(n.deviceId);
          executions = true;
          break;
        case 'execution':
          executions = true;
          break;
      }
    }
    if (joined.length > 0) {
      await audit.append('gateway', 'rollout.enrolled', rollout.id, { devices: joined.length, deviceIds: joined.slice(0, 100) });
    }
    if (executions) onExecutionsChanged();
  }
}
