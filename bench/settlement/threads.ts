/**
 * CPU of each thread of a process over a window (Linux: /proc/<pid>/task/<tid>/stat and comm, sampled
 * every `everyMs`, so a thread that ends inside the window keeps what it had used by its last sample).
 * Threads are grouped by name: the event loop (tid = pid), the threads hdx names itself (seal workers,
 * WAL checkpointer, the bench's libuv pool), and the rest — V8's platform threads (GC, JIT) — as "node".
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export const EVENT_LOOP = 'event loop';

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** One thread's user + system CPU so far (ms) and its name, or undefined once it has ended. */
function threadCpu(pid: number, tid: string): { name: string; ms: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const name = Number(tid) === pid ? EVENT_LOOP : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    return { name, ms: ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

export interface ThreadGroup {
  name: string;
  /** Threads of that name seen in the window. */
  threads: number;
  /** CPU they used in the window, ms. */
  ms: number;
}

export interface ThreadSampler {
  /** Samples now (besides every `everyMs`). */
  sample(): void;
  /** Takes a last sample and stops. */
  stop(): void;
  /**
   * CPU per thread name, biggest first (empty where /proc is absent), from the first sample or, given
   * `from` (wall-clock ms), from the last sample at or before it (threads born later from zero).
   */
  groups(from?: number): ThreadGroup[];
}

interface Sample {
  at: number;
  cpu: Map<string, { name: string; ms: number }>;
}

export function sampleThreads(pid: number, everyMs = 100): ThreadSampler {
  const samples: Sample[] = [];
  const take = () => {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      return;
    }
    const cpu = new Map<string, { name: string; ms: number }>();
    for (const tid of tids) {
      const now = threadCpu(pid, tid);
      if (now) cpu.set(tid, now);
    }
    samples.push({ at: Date.now(), cpu });
  };
  take();
  const timer = setInterval(take, everyMs);
  timer.unref();
  return {
    sample: take,
    stop() {
      take();
      clearInterval(timer);
    },
    groups(from?: number) {
      const base = (from === undefined ? samples[0] : samples.findLast((s) => s.at <= from)) ?? samples[0];
      // Each thread's last sample: one that ended inside the window keeps what it had used by then.
      const last = new Map<string, { name: string; ms: number }>();
      for (const sample of samples) if (sample.at >= (base?.at ?? 0)) for (const [tid, now] of sample.cpu) last.set(tid, now);
      const groups = new Map<string, ThreadGroup>();
      for (const [tid, { name, ms }] of last) {
        const group = groups.get(name) ?? { name, threads: 0, ms: 0 };
        group.threads += 1;
        group.ms += ms - (base?.cpu.get(tid)?.ms ?? 0);
        groups.set(name, group);
      }
      return [...groups.values()].sort((a, b) => b.ms - a.ms);
    },
  };
}
