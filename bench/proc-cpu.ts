/**
 * Another process's CPU, read from Linux /proc by the bench (so a party needs no protocol to report it):
 * user + system ms of the whole process (every thread) and of its main (event-loop) thread alone.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticks: number | undefined;
function ticksPerSecond(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** utime + stime of a /proc stat file, in ms; NaN where /proc is not there. */
function statCpuMs(path: string): number {
  try {
    const stat = readFileSync(path, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond();
  } catch {
    return Number.NaN;
  }
}

export interface ProcessCpu {
  /** Every thread of the process. */
  all: number;
  /** The main thread: a Node process's event loop. */
  main: number;
}

export function processCpuMs(pid: number): ProcessCpu {
  return { all: statCpuMs(`/proc/${pid}/stat`), main: statCpuMs(`/proc/${pid}/task/${pid}/stat`) };
}

export function cpuSince(pid: number, from: ProcessCpu): ProcessCpu {
  const now = processCpuMs(pid);
  return { all: now.all - from.all, main: now.main - from.main };
}
