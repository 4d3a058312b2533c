/**
 * Running a long-lived command as a service (`gateway serve`, `hospital decisions --follow`, `insurer pull
 * --follow`, the hospital's folder daemon): SIGTERM is handled as SIGINT — stop taking new work, finish
 * what is in flight, flush, print one summary line and exit 0 — an exclusive lock on the command's folder,
 * and timestamps on every output line. A second signal stops at once (exit 130), for an operator who will
 * not wait.
 */
import { lockFolder, type FolderLock } from './folder-lock.js';

export interface ServiceContext {
  /** Aborts on the first SIGINT or SIGTERM. */
  signal: AbortSignal;
  /** Writes one timestamped line to stdout (output for the operator or the HIS). */
  out(line: string): void;
  /** Writes one timestamped line to stderr (progress, reconnects). */
  log(line: string): void;
}

export interface ServiceOptions {
  /** As the operator typed it, e.g. "hdx insurer pull"; begins the summary line. */
  name: string;
  /** The folder this process must be alone on (see folder-lock.ts); none for the gateway, whose server locks. */
  lockDir?: string;
  /**
   * Does the work until `signal` aborts (or the work ends); resolves with the summary, e.g. "12 received",
   * printed on stderr (stdout stays the command's output: one JSON object per line with --json).
   */
  run(context: ServiceContext): Promise<string>;
}

/** "2026-09-01T00:00:00.000Z line": UTC, so lines from hosts in different zones sort together. */
export function stamped(line: string, now = new Date()): string {
  return `${now.toISOString()} ${line}`;
}

export async function runService(options: ServiceOptions): Promise<void> {
  const lock: FolderLock | undefined = options.lockDir ? lockFolder(options.lockDir, options.name) : undefined;
  const stopping = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stoppedBy) {
      process.stderr.write(`${stamped(`${options.name}: ${signal} again, stopping now without finishing`)}\n`);
      process.exit(130);
    }
    stoppedBy = signal;
    process.stderr.write(`${stamped(`${options.name}: ${signal}, finishing work in flight`)}\n`);
    stopping.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const summary = await options.run({
      signal: stopping.signal,
      out: (line) => process.stdout.write(`${stamped(line)}\n`),
      log: (line) => process.stderr.write(`${stamped(line)}\n`),
    });
    process.stderr.write(`${stamped(`${options.name} ${stoppedBy ? `stopped (${stoppedBy})` : 'done'}: ${summary}`)}\n`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    lock?.release();
  }
}
