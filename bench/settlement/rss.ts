/**
 * Resident memory of a process over a run: VmRSS from /proc/<pid>/status every `everyMs` (Linux), or
 * process.memoryUsage().rss for this process elsewhere. Samples carry wall-clock time so a run can read
 * the memory at the start and the end of its measured window.
 */
import { readFileSync } from 'node:fs';

export interface RssSample {
  at: number;
  mb: number;
}

export interface RssSampler {
  samples: RssSample[];
  peakMb(): number;
  /** The first sample at or after `from` and the last at or before `to` (wall-clock ms). */
  window(from: number, to: number): { startMb: number; endMb: number };
  stop(): void;
}

function rssMb(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    if (kb) return Number(kb) / 1024;
  } catch {
    // not Linux, or the process has ended
  }
  return pid === process.pid ? process.memoryUsage().rss / 2 ** 20 : undefined;
}

export function sampleRss(pid: number, everyMs = 250): RssSampler {
  const samples: RssSample[] = [];
  const take = () => {
    const mb = rssMb(pid);
    if (mb !== undefined) samples.push({ at: Date.now(), mb });
  };
  take();
  const timer = setInterval(take, everyMs);
  timer.unref();
  return {
    samples,
    peakMb: () => Math.max(...samples.map((s) => s.mb)),
    window: (from, to) => {
      const inside = samples.filter((s) => s.at >= from && s.at <= to);
      const first = inside[0] ?? samples[0];
      const last = inside.at(-1) ?? samples.at(-1);
      return { startMb: first?.mb ?? Number.NaN, endMb: last?.mb ?? Number.NaN };
    },
    stop: () => {
      take();
      clearInterval(timer);
    },
  };
}
