import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The bare fan-out of the fleet bench (issue 14 part 1) runs in a child process of its own, so that its RSS and
 * CPU are measured apart from the bench: `bare-aedes.ts` (aedes + an in-process publisher, as the gateway's
 * embedded broker publishes with aedes.publish) or `bare-mqtt-publisher.ts` (an MQTT client on Mosquitto's
 * backend listener, as the gateway's backend connections). Both speak this protocol over node IPC.
 */
export type BareParentMessage =
  | { readonly type: 'publish'; readonly deviceIds: readonly string[]; readonly envelopeB64: string; readonly seq: number; readonly ratePerSec: number }
  | { readonly type: 'stop' };

export interface BareAcks {
  readonly published: number;
  /** Distinct devices that acknowledged `seq` with each status. */
  readonly applied: number;
  readonly verified: number;
  readonly rejected: number;
  /** Ack payloads that did not decode (must stay 0). */
  readonly malformed: number;
}

export type BareChildMessage =
  | { readonly type: 'ready'; readonly mqttsPort: number; readonly httpPort: number }
  | ({ readonly type: 'acks' } & BareAcks)
  | { readonly type: 'error'; readonly message: string };

export interface BareProcess {
  readonly pid: number;
  readonly mqttsPort: number;
  /** The bare broker's own /health (aedes only; 0 otherwise): what an API on the broker's event loop would see. */
  readonly httpPort: number;
  publish(deviceIds: readonly string[], envelopeB64: string, seq: number, ratePerSec: number): void;
  acks(): BareAcks;
  readonly errors: string[];
  stop(): Promise<void>;
}

export async function forkBare(entry: 'bare-aedes' | 'bare-mqtt-publisher', config: unknown): Promise<BareProcess> {
  const file = fileURLToPath(new URL(`./${entry}.ts`, import.meta.url));
  const child: ChildProcess = fork(file, [JSON.stringify(config)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const errors: string[] = [];
  let acks: BareAcks = { published: 0, applied: 0, verified: 0, rejected: 0, malformed: 0 };
  const ready = await new Promise<{ mqttsPort: number; httpPort: number }>((ok, fail) => {
    child.once('exit', (code) => fail(new Error(`${entry} exited (${code}) before it was ready: ${errors.join('; ')}`)));
    child.on('message', (m: BareChildMessage) => {
      if (m.type === 'ready') ok(m);
      else if (m.type === 'acks') acks = m;
      else errors.push(m.message);
    });
  });
  child.removeAllListeners('exit');
  const pid = child.pid as number;
  const exitGuard = () => child.exitCode === null && child.kill('SIGKILL');
  process.once('exit', exitGuard);
  return {
    pid, mqttsPort: ready.mqttsPort, httpPort: ready.httpPort, errors,
    publish: (deviceIds, envelopeB64, seq, ratePerSec) => child.send({ type: 'publish', deviceIds, envelopeB64, seq, ratePerSec } satisfies BareParentMessage),
    acks: () => acks,
    async stop() {
      process.off('exit', exitGuard);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((ok) => child.once('exit', () => ok()));
      child.send({ type: 'stop' } satisfies BareParentMessage);
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(t);
    },
  };
}

/** Counts distinct devices per ack status for one seq (shared by both bare publishers). */
export class AckCounter {
  private readonly by = { applied: new Set<string>(), verified: new Set<string>(), rejected: new Set<string>() };
  published = 0;
  malformed = 0;
  constructor(private readonly seq: () => number) {}
  add(deviceId: string, ack: { seq: number; status: 'applied' | 'verified' | 'rejected' } | null): void {
    if (ack === null) this.malformed++;
    else if (ack.seq === this.seq()) this.by[ack.status].add(deviceId);
  }
  snapshot(): BareAcks {
    return { published: this.published, applied: this.by.applied.size, verified: this.by.verified.size, rejected: this.by.rejected.size, malformed: this.malformed };
  }
}

/**
 * Sends the envelope to each device at `ratePerSec` with a burst of as many (the bench runs the gateway's rollout
 * with PINGW_ROLLOUT_RATE = PINGW_ROLLOUT_BURST: the same token bucket), in slices of 10 ms.
 */
export async function paced(ids: readonly string[], ratePerSec: number, send: (id: string) => void, stopped: () => boolean): Promise<void> {
  const t0 = performance.now();
  let i = 0;
  while (i < ids.length && !stopped()) {
    const due = Math.min(ids.length, Math.floor(((performance.now() - t0) / 1000) * ratePerSec) + Math.ceil(ratePerSec));
    for (; i < due; i++) send(ids[i] as string);
    await new Promise((r) => setTimeout(r, 10));
  }
}
