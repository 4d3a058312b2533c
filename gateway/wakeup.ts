/**
 * Wakes a long-lived stream (an insurer's pull, a hospital's decisions) when the domain signals new work
 * for it. The stream subscribes before it first queries and calls `reset()` before each query, so a signal
 * that arrives between a query and the wait is not lost: the wait then returns at once.
 */
import type { Channel, Notifier } from './storage/store.js';

export class Wakeup {
  private pending = false;
  private wake: (() => void) | undefined;
  private readonly listener = () => {
    this.pending = true;
    this.wake?.();
  };

  private readonly unsubscribe: () => void;

  constructor(events: Notifier, event: Channel) {
    this.unsubscribe = events.subscribe(event, this.listener);
  }

  /** Call right before each query: signals up to now are answered by that query. */
  reset(): void {
    this.pending = false;
  }

  /** Resolves on a signal (also one since the last reset), after `timeoutMs`, or when `signal` aborts. */
  wait(timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.pending || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done);
      this.wake = done;
    });
  }

  close(): void {
    this.unsubscribe();
  }
}
