import { describe, expect, it } from 'vitest';
import { common } from '../../api-contract/index';
import { EXECUTION_KINDS, zeroExecutionCounts } from '../../gateway/rollout-engine/index';

// The engine owns the execution kinds (SPEC §7); the API contract states them for clients that may not import the
// gateway (dashboard, device-sim). The two lists are one definition seen from two sides: they must not drift.
describe('execution kinds', () => {
  it('the API contract lists exactly the engine\'s kinds, in the same order', () => {
    expect([...common.EXECUTION_KINDS]).toEqual([...EXECUTION_KINDS]);
  });
  it('zero counts have one entry per kind and parse as the contract\'s executionCounts', () => {
    const zero = zeroExecutionCounts();
    expect(Object.keys(zero)).toEqual([...EXECUTION_KINDS]);
    expect(common.executionCounts.parse(zero)).toEqual(zero);
  });
});

// The same for the guided rotation's steps (issue 16), which the dashboard reads from the contract.
describe('rotation plan steps', () => {
  it('the API contract lists exactly the registry\'s steps, in the same order', async () => {
    const { lifecycle } = await import('../../api-contract/index');
    const { PLAN_STEPS } = await import('../../gateway/registry/lifecycle-rows');
    expect([...lifecycle.PLAN_STEPS]).toEqual([...PLAN_STEPS]);
  });
});
