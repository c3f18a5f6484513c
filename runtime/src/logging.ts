// Per-process logging, as multiprocessing's get_logger()/log_to_stderr(): each line names its process and pid.
// Node's modules only; writes synchronously to stderr so a line is never lost when a child exits.
import { writeSync } from 'node:fs';
import { currentProcess } from './process';

const LEVELS = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40, CRITICAL: 50 } as const;
export type LogLevel = keyof typeof LEVELS;

/**
 * The runtime's logger; silent until logToStderr() or setLevel().
 * Python: multiprocessing.util logger (logging.Logger)
 */
export class Logger {
  #level: number = LEVELS.WARNING;
  #handlers: Array<(line: string) => void> = [];

  /** Python: Logger.setLevel */
  setLevel(level: LogLevel | number): void {
    this.#level = typeof level === 'number' ? level : LEVELS[level];
  }

  /** Python: Logger.getEffectiveLevel */
  getEffectiveLevel(): number {
    return this.#level;
  }

  /** Adds where lines go. Python: Logger.addHandler */
  addHandler(handler: (line: string) => void): void {
    this.#handlers.push(handler);
  }

  log(level: LogLevel, ...parts: unknown[]): void {
    if (LEVELS[level] < this.#level || this.#handlers.length === 0) return;
    const process_ = currentProcess();
    const text = parts.map((p) => (typeof p === 'string' ? p : p instanceof Error ? (p.stack ?? String(p)) : JSON.stringify(p))).join(' ');
    const line = `[${level}/${process_.name} pid ${process.pid}] ${text}`;
    for (const h of this.#handlers) h(line);
  }

  debug(...parts: unknown[]): void {
    this.log('DEBUG', ...parts);
  }
  info(...parts: unknown[]): void {
    this.log('INFO', ...parts);
  }
  warning(...parts: unknown[]): void {
    this.log('WARNING', ...parts);
  }
  warn(...parts: unknown[]): void {
    this.log('WARNING', ...parts);
  }
  error(...parts: unknown[]): void {
    this.log('ERROR', ...parts);
  }
  critical(...parts: unknown[]): void {
    this.log('CRITICAL', ...parts);
  }
}

const logger = new Logger();
let toStderr = false;

/** The runtime's logger. Python: multiprocessing.get_logger() */
export function getLogger(): Logger {
  return logger;
}

/** Sends the logger's lines to stderr (each with process name and pid) and sets its level. Python: multiprocessing.log_to_stderr() */
export function logToStderr(level?: LogLevel | number): Logger {
  if (!toStderr) {
    toStderr = true;
    logger.addHandler((line) => writeSync(2, `${line}\n`));
  }
  if (level !== undefined) logger.setLevel(level);
  return logger;
}
