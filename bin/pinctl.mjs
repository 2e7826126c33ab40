#!/usr/bin/env node
// Runs the TypeScript CLI through tsx so that `npx pinctl …` works without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../shared/cli/pinctl.ts');
process.exitCode = await main(process.argv.slice(2));
