/**
 * Group commit. Every state change is a synchronous function run inside a transaction; the committer
 * queues the functions that arrive while one flush is pending and runs them all in ONE outer
 * transaction (each in its own savepoint, so one failing function does not undo the others), then
 * resolves their promises after COMMIT. With synchronous=FULL that is one fsync per batch instead of
 * one per request, and no request is acknowledged before its write is durable.
 */
import type { Db } from './db.js';

interface Pending {
  fn: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class Committer {
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly onRollback: () => void;
  private readonly onBatch: (size: number, seconds: number) => void;

  /** `onRollback` lets in-memory state derived from the database (the audit log's head) be reloaded. */
  /** `onBatch` sees each flushed batch's size and how long it took to run and commit (metrics). */
  constructor(
    private readonly db: Db,
    options: { onRollback?: () => void; maxBatch?: number; onBatch?: (size: number, seconds: number) => void } = {},
  ) {
    this.onRollback = options.onRollback ?? (() => {});
    this.onBatch = options.onBatch ?? (() => {});
    this.maxBatch = options.maxBatch ?? 256;
  }
  private readonly maxBatch: number;

  /** Runs `fn` inside a transaction; resolves once the transaction has committed. */
  commit<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Runs `fn` in a transaction now, synchronously (for start-up work and tests). */
  commitNow<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn)();
    } catch (error) {
      this.onRollback();
      throw error;
    }
  }

  private flush(): void {
    const batch = this.queue.splice(0, this.maxBatch);
    this.scheduled = this.queue.length > 0;
    if (this.scheduled) setImmediate(() => this.flush());
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    const started = performance.now();
    try {
      this.db.transaction(() => {
        for (const item of batch) {
          try {
            outcomes.push({ ok: true, value: this.db.transaction(item.fn)() });
          } catch (error) {
            // The savepoint of this item was rolled back; in-memory heads must follow.
            this.onRollback();
            outcomes.push({ ok: false, error });
          }
        }
      })();
    } catch (error) {
      this.onRollback();
      for (const item of batch) item.reject(error);
      return;
    }
    this.onBatch(batch.length, (performance.now() - started) / 1000);
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }
}
