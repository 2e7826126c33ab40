import { cpus, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export interface Measurement {
  readonly name: string;
  /** Median operations per second over the rounds. */
  readonly opsPerSec: number;
  readonly rounds: number[];
}

/** Runs `fn` in rounds of at least `roundMs` each after a warm-up; reports the median rate. */
export function measure(name: string, fn: () => unknown, opts: { rounds?: number; roundMs?: number } = {}): Measurement {
  const roundsN = opts.rounds ?? 5;
  const roundMs = opts.roundMs ?? 300;
  let sink: unknown;
  const warmEnd = performance.now() + roundMs;
  while (performance.now() < warmEnd) sink = fn();
  const rounds: number[] = [];
  for (let r = 0; r < roundsN; r++) {
    let n = 0;
    const start = performance.now();
    let now = start;
    while (now - start < roundMs) {
      for (let i = 0; i < 16; i++) sink = fn();
      n += 16;
      now = performance.now();
    }
    rounds.push((n * 1000) / (now - start));
  }
  if (sink === Symbol.for('never')) console.log(sink);
  const sorted = [...rounds].sort((a, b) => a - b);
  const m = { name, opsPerSec: Math.round(sorted[Math.floor(sorted.length / 2)] as number), rounds: rounds.map(Math.round) };
  console.log(`${name.padEnd(48)} ${m.opsPerSec.toLocaleString('en-US').padStart(12)} /s`);
  return m;
}

export function machine(): Record<string, unknown> {
  const cpu = cpus();
  return { cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length, memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform };
}

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), 'results');

/** Writes a result file in bench/results/ and says where. */
export function writeResults(file: string, data: Record<string, unknown>): string {
  mkdirSync(RESULTS, { recursive: true });
  const path = join(RESULTS, file);
  writeFileSync(path, `${JSON.stringify({ date: new Date().toISOString(), machine: machine(), ...data }, null, 2)}\n`);
  console.log(`results written to ${path}`);
  return path;
}
