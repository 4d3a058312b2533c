/**
 * Names the calling OS thread (Linux: /proc/thread-self/comm, at most 15 bytes), so `top -H`, `ps -L`
 * and the bench's per-thread CPU tell the seal workers and the WAL checkpointer from V8's own threads
 * (Node 20 names every thread "node"). Elsewhere, or if /proc is not writable, it does nothing.
 */
import { writeFileSync } from 'node:fs';

export function nameThisThread(name: string): void {
  try {
    writeFileSync('/proc/thread-self/comm', name.slice(0, 15));
  } catch {
    // not Linux, or no /proc: the thread keeps its name
  }
}
