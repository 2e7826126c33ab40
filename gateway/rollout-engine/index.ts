/** Staged rollouts (SPEC §7): pure, I/O-free. Explicit export list. Coverage (SPEC §8) is in ../coverage/. */
export {
  transition,
  isFinalRolloutState,
  type RolloutState,
  type RolloutStateKind,
  type RolloutEvent,
  type PauseReason,
  type AbortReason,
  type TransitionError,
  type TransitionResult,
} from './rollout-state.js';
export {
  applyExecutionEvent,
  backoffDelay,
  nextDeadline,
  queued,
  isActiveExecution,
  ACTIVE_EXECUTION_KINDS,
  isFinishedExecution,
  isFailedExecution,
  finishedAt,
  EXECUTION_KINDS,
  zeroExecutionCounts,
  DEFAULT_DELIVERY_POLICY,
  type ExecutionState,
  type ExecutionKind,
  type ExecutionEvent,
  type ExecutionTransition,
  type DeliveryPolicy,
  type TimeoutPhase,
} from './execution-state.js';
export {
  assignWave,
  isRest,
  waveQuota,
  matchesSelector,
  validatePlan,
  validateSelector,
  basisPoints,
  DEFAULT_PLAN,
  MAX_WAVES,
  type Plan,
  type WaveSpec,
  type WaveLimit,
  type Selector,
  type DeviceInfo,
  type PlanValidation,
} from './plan.js';
export {
  evaluateGates,
  errorGateTrips,
  telemetryGateTrips,
  successGateHolds,
  waveCannotSucceed,
  DEFAULT_GATES,
  type GateConfig,
  type GateCounts,
  type GateDecision,
} from './gates.js';
export { refill, available, take, fullBucket, DEFAULT_RATE_LIMIT, type RateLimit, type TokenBucket } from './token-bucket.js';
export {
  resolveConfig,
  DEFAULT_ROLLOUT_CONFIG,
  type RolloutConfig,
  type RolloutConfigInput,
  type ConfigResult,
} from './config.js';
export {
  createRollout,
  serializeSnapshot,
  parseSnapshot,
  countForGates,
  summarizeExecutions,
  SNAPSHOT_FORMAT,
  type RolloutSnapshot,
  type ExecutionRecord,
  type WaveRecord,
  type CreateRolloutInput,
  type CreateRolloutResult,
  type ExecutionSummary,
} from './snapshot.js';
export { step, onHello, onAck, type StepInput, type TickResult } from './engine-step.js';
export type { StepResult, RolloutCommand, RolloutNote } from './engine-work.js';
export {
  applyOperatorCommand,
  supersede,
  type OperatorCommand,
  type CommandInput,
  type CommandResult,
} from './engine-commands.js';
export { stableHash32, rolloutRank } from './stable-hash.js';
export { onDecommission } from './engine-decommission.js';
export { newerSeqInTheWay } from './seq-order.js';
