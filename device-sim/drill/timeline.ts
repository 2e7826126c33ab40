import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** One line of the drill's timeline: seconds since the drill started, what happened, and the numbers behind it. */
export interface TimelineEntry {
  readonly t: number;
  readonly event: string;
  readonly text: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/**
 * The drill's record: each step appends a line (`t+12.3s  rollout wave 2/5 started (100 devices)`), printed as it
 * happens, and the whole list is kept as JSON so the numbers survive the run.
 */
export class Timeline {
  readonly entries: TimelineEntry[] = [];
  private readonly t0 = Date.now();

  constructor(private readonly print: (line: string) => void = (l) => process.stdout.write(`${l}\n`)) {}

  /** Seconds since the start, one decimal. */
  now(): number {
    return Math.round((Date.now() - this.t0) / 100) / 10;
  }

  add(event: string, text: string, data: Record<string, unknown> = {}): TimelineEntry {
    const entry = { t: this.now(), event, text, data };
    this.entries.push(entry);
    this.print(Timeline.format(entry));
    return entry;
  }

  /** The last entry of a kind (tests look the numbers up by event name). */
  last(event: string): TimelineEntry | undefined {
    return this.entries.findLast((e) => e.event === event);
  }

  all(event: string): TimelineEntry[] {
    return this.entries.filter((e) => e.event === event);
  }

  static format(e: TimelineEntry): string {
    return `${`t+${e.t.toFixed(1)}s`.padEnd(9)} ${e.text}`;
  }

  async writeJson(file: string, extra: Record<string, unknown> = {}): Promise<void> {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, `${JSON.stringify({ ...extra, timeline: this.entries }, null, 2)}\n`);
  }
}
