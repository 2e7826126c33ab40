/** The API contract: every answer's schema (explicit export list), and the types they infer. */
import type { z } from 'zod';
import * as common from './common';
import * as devices from './devices';
import * as lifecycle from './lifecycle';
import * as operations from './operations';
import * as pinsets from './pinsets';
import * as rollouts from './rollouts';
import * as security from './security';

export { common, devices, lifecycle, operations, pinsets, rollouts, security };
export type Rollout = z.infer<typeof rollouts.rollout>;
export type Execution = z.infer<typeof rollouts.execution>;
export type Device = z.infer<typeof devices.device>;
export type DeviceDetail = z.infer<typeof devices.deviceDetail>;
export type Readiness = z.infer<typeof common.readiness>;
export type Rotation = z.infer<typeof common.rotation>;
export type PinSetView = z.infer<typeof pinsets.pinsetView>;
export type AuditEntry = z.infer<typeof common.auditEntry>;
export type Fleet = z.infer<typeof common.fleet>;
export type TelemetryPoint = z.infer<typeof common.telemetryPoint>;
export type Report = z.infer<typeof common.report>;
export type Whoami = z.infer<typeof common.whoami>;
export type KillSwitch = z.infer<typeof lifecycle.killSwitch>;
export type Finding = z.infer<typeof lifecycle.finding>;
export type RotationPlan = z.infer<typeof lifecycle.rotationPlan>;
export type Mismatch = z.infer<typeof lifecycle.mismatch>;
export type SecurityReport = z.infer<typeof security.security>;
