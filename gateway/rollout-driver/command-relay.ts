import { randomUUID } from 'node:crypto';
import { DOMAIN_ERROR_CODES, DomainError, type DomainErrorCode } from '../errors/domain-error';
import type { Logger } from '../logger';
import type { ReplicaChannel } from '../registry/replica-channel';
import type { OperatorCommand } from '../rollout-engine/index';

const COMMANDS = new Set(['start', 'pause', 'resume', 'abort', 'advance', 'retry-failed']);

interface CommandMessage {
  k: 'cmd';
  o: string;
  id: string;
  rollout: string;
  command: OperatorCommand;
  actor: string;
  reason?: string;
}
interface ResultMessage {
  k: 'res';
  o: string;
  to: string;
  id: string;
  ok: boolean;
  code?: string;
  message?: string;
}

export interface CommandRelayOptions {
  /** How long a replica waits for the leader's answer before it answers 503 E_NOT_LEADER (a takeover under way). */
  timeoutMs: number;
}

/**
 * Operator commands (start, pause, abort…) reach the replica that leads (docs/scale.md "Replicas"): a follower
 * sends the command over the replica channel and waits for the leader's answer; the leader runs it in its own
 * driver (serialised with the rollout's other work) and answers with the outcome, its DomainError code included.
 * When no answer comes in time, E_NOT_LEADER: the command may or may not have been applied (the rollout's state
 * and audit log say which), so a client retries only after reading it.
 */
export class CommandRelay {
  private readonly waiting = new Map<string, { ok: () => void; fail: (e: Error) => void; timer: NodeJS.Timeout }>();

  constructor(
    private readonly channel: ReplicaChannel,
    private readonly origin: string,
    private readonly runLocally: (id: string, command: OperatorCommand, actor: string, reason?: string) => Promise<void>,
    private readonly isLeader: () => boolean,
    private readonly logger: Logger,
    private readonly options: CommandRelayOptions,
  ) {
    channel.subscribe((p) => this.receive(p));
  }

  /** Sends the command to the leader and resolves / rejects with its outcome. */
  async request(rollout: string, command: OperatorCommand, actor: string, reason?: string): Promise<void> {
    const id = randomUUID();
    const msg: CommandMessage = { k: 'cmd', o: this.origin, id, rollout, command, actor, ...(reason === undefined ? {} : { reason }) };
    const answered = new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        fail(new DomainError('E_NOT_LEADER', `no replica leads rollouts right now (no answer within ${this.options.timeoutMs} ms); read the rollout's state, then retry`));
      }, this.options.timeoutMs);
      this.waiting.set(id, { ok, fail, timer });
    });
    await this.channel.publish(JSON.stringify(msg));
    return answered;
  }

  /** Fails every wait (stop). */
  close(): void {
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer);
      w.fail(new DomainError('E_NOT_LEADER', 'the gateway is stopping'));
      this.waiting.delete(id);
    }
  }

  private receive(payload: string): void {
    let msg: { k?: string; o?: string; to?: string; id?: string; ok?: boolean; code?: string; message?: string };
    try {
      msg = JSON.parse(payload) as typeof msg;
    } catch {
      return; // the fan-out logs unreadable messages
    }
    if (msg.k === 'cmd' && msg.o !== this.origin && this.isLeader()) void this.serve(msg as unknown as CommandMessage);
    else if (msg.k === 'res' && msg.to === this.origin && typeof msg.id === 'string') {
      const w = this.waiting.get(msg.id);
      if (w === undefined) return;
      this.waiting.delete(msg.id);
      clearTimeout(w.timer);
      if (msg.ok === true) w.ok();
      else if (typeof msg.code === 'string' && (DOMAIN_ERROR_CODES as readonly string[]).includes(msg.code)) w.fail(new DomainError(msg.code as DomainErrorCode, msg.message ?? ''));
      else w.fail(new Error(`the leading replica failed the command: ${msg.message ?? 'unknown error'}`));
    }
  }

  private async serve(msg: CommandMessage): Promise<void> {
    if (typeof msg.rollout !== 'string' || typeof msg.actor !== 'string' || !COMMANDS.has(msg.command?.type)) {
      this.logger.warn('malformed rollout command from a replica ignored', { from: msg.o });
      return;
    }
    let result: ResultMessage = { k: 'res', o: this.origin, to: msg.o, id: msg.id, ok: true };
    try {
      await this.runLocally(msg.rollout, msg.command, msg.actor, msg.reason);
    } catch (err) {
      result = { ...result, ok: false, message: err instanceof Error ? err.message.slice(0, 2000) : String(err), ...(err instanceof DomainError ? { code: err.code } : {}) };
    }
    await this.channel.publish(JSON.stringify(result)).catch((err: unknown) => this.logger.warn('rollout command answer not sent', { error: String(err) }));
  }
}
