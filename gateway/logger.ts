/** Minimal structured logger: the gateway logs one line per event, with a small context object. */
export interface Logger {
  info(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}

function line(level: string, message: string, context?: Record<string, unknown>): string {
  const suffix = context && Object.keys(context).length > 0 ? ' ' + JSON.stringify(context) : '';
  return `${new Date().toISOString()} ${level} ${message}${suffix}`;
}

export const consoleLogger: Logger = {
  info: (m, c) => console.log(line('INFO', m, c)),
  warn: (m, c) => console.warn(line('WARN', m, c)),
  error: (m, c) => console.error(line('ERROR', m, c)),
};

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };

/** A logger that keeps lines in memory (tests assert on what was logged). */
export function memoryLogger(): Logger & { lines: { level: string; message: string; context?: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; context?: Record<string, unknown> }[] = [];
  const push = (level: string) => (message: string, context?: Record<string, unknown>) => {
    lines.push(context === undefined ? { level, message } : { level, message, context });
  };
  return { lines, info: push('info'), warn: push('warn'), error: push('error') };
}
