/** Logs go to stderr, so stdout carries only what scripts read (bound addresses, JSON). */
export type Level = "error" | "warn" | "info" | "debug";
export type Log = (level: Level, msg: string) => void;

const ORDER: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export function createLog(threshold: Level): Log {
  return (level, msg) => {
    if (ORDER[level] <= ORDER[threshold])
      process.stderr.write(`${new Date().toISOString()} ${level} ${msg}\n`);
  };
}
