import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Clock } from './clock';
import type { GatewayConfig } from './config/schema';
import type { BrowserEvent, BrowserEventStream } from './events/browser-event-stream';
import type { EventBus } from './events/event-bus';
import { ReplicaFanout } from './events/replica-fanout';
import { LeaderElector, type Leadership } from './leadership/leader-elector';
import type { Logger } from './logger';
import { LEADER_ROLE } from './registry/leader-lock';
import type { Registry } from './registry/registry';
import type { ReplicaChannel } from './registry/replica-channel';
import { CommandRelay } from './rollout-driver/command-relay';
import type { RolloutDriver } from './rollout-driver/rollout-driver';

export interface ReplicaRole {
  leadership: Leadership;
  /** Who this process is in logs and the leader row (host:pid). */
  holder: string;
  /** Event fan-out to the other replicas (null on SQLite: one process). */
  fanout: ReplicaFanout | null;
  /** Stops the leader's jobs (if leading), gives the lock up, stops the fan-out. */
  stop(): Promise<void>;
}

export interface LeaderJobs {
  /** This replica leads now: start the single-writer jobs (rollout driver, watches, rotation-gate webhooks). */
  lead(): Promise<void>;
  /** It no longer leads: stop them at once (their writes are fenced anyway). */
  standDown(): Promise<void>;
}

/** Monotonic time for the lock's rules: the database's timeouts run on real time, never on a test's moved clock. */
const monotonic: Clock = { now: () => performance.now() };

/**
 * Replicas (docs/scale.md "Replicas"), wired once: leader election on the registry's lock, the jobs that run on the
 * leader only, event fan-out between replicas and operator commands relayed to the leader. On SQLite the one process
 * always leads (and a second live process on the file is refused here, at start-up); on PostgreSQL every replica
 * runs this and exactly one leads at a time.
 */
export async function startLeadership(d: {
  config: GatewayConfig;
  registry: Registry;
  driver: RolloutDriver;
  jobs: LeaderJobs;
  events: EventBus;
  hub: BrowserEventStream;
  /** Browser events from other replicas (coverage changes feed the leader's rotation-gate webhooks). */
  onRemoteHub: (e: BrowserEvent) => void;
  clock: Clock;
  logger: Logger;
  /** Receives the election before its first attempt: the first term's jobs already write with its fence. */
  bind: (leadership: Leadership) => void;
}): Promise<ReplicaRole> {
  const { config, registry, driver, jobs, logger } = d;
  const holder = `${hostname()}:${process.pid}`;
  // SQLite: no other process can take the file over, so no stall bound (a long event-loop stall under load must
  // not make the one process step down and reload its rollouts)
  const timing = { pollMs: config.leader.pollMs, stallMs: registry.dialect === 'sqlite' ? Number.POSITIVE_INFINITY : config.leader.stallMs };
  const lock = registry.leaderLock(LEADER_ROLE, { holder, stallMs: config.leader.stallMs });
  const elector = new LeaderElector(lock, LEADER_ROLE, timing, monotonic, logger, d.clock);
  d.bind(elector);

  // lead / step down one after the other, never overlapping
  let switching: Promise<void> = Promise.resolve();
  elector.onChange((effect) => {
    switching = switching
      .then(() => (effect === 'lead' ? jobs.lead() : jobs.standDown()))
      .catch((err: unknown) => logger.error(`leader jobs failed to ${effect === 'lead' ? 'start' : 'stop'}`, { error: String(err) }));
  });

  let channel: ReplicaChannel | null = null;
  let fanout: ReplicaFanout | null = null;
  let relay: CommandRelay | null = null;
  try {
    channel = await registry.openReplicaChannel(logger);
    if (channel !== null) {
      // several gateways may run in one process (tests): the origin tells this one's messages apart
      const origin = `${holder}:${randomUUID().slice(0, 8)}`;
      fanout = new ReplicaFanout(channel, d.events, d.hub, origin, logger);
      fanout.start(d.onRemoteHub);
      relay = new CommandRelay(channel, origin, (id, command, actor, reason) => driver.command(id, command, actor, reason), () => elector.isLeader(), logger, {
        timeoutMs: Math.max(10_000, 3 * timing.stallMs),
      });
      const r = relay;
      driver.forwardCommands((id, command, actor, reason) => r.request(id, command, actor, reason));
    }
    await elector.start(); // SQLite: throws when another live process uses the file
    await switching; // the first term's jobs run before start-up reports success
  } catch (err) {
    await elector.stop().catch(() => {});
    relay?.close();
    await fanout?.stop().catch(() => {});
    await channel?.close().catch(() => {});
    throw err;
  }

  return {
    leadership: elector,
    holder,
    fanout,
    stop: async () => {
      await elector.stop(); // step-down effect: the jobs stop
      await switching;
      relay?.close();
      driver.forwardCommands(null);
      await fanout?.stop();
      await channel?.close();
    },
  };
}
