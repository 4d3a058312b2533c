/**
 * Group commit on SQLite. Items (async functions) that arrive while a flush is pending run one after another
 * in ONE outer transaction, each in its own savepoint (one failing item does not undo the others); their
 * promises settle after COMMIT. With synchronous=FULL that is one fsync per batch instead of one per
 * request, and no request is acknowledged before its write is durable.
 *
 * Items run strictly one at a time and the next batch starts only after this one committed, so the write
 * connection is never shared between two items. While an item awaits, other code may run: it cannot see
 * the batch's uncommitted writes because everything outside the committer reads through the store's
 * separate read-only connection (see store.ts). SQLite items await only their `tx`, whose calls settle at
 * once, so a batch still runs in one go without giving the event loop a turn.
 */
import type { Statement } from 'better-sqlite3';
import type { Db } from '../db.js';

interface Pending {
  fn: () => Promise<unknown>;
  /** Runs after COMMIT, before the item's promise resolves (wake-ups, the log's committed size). */
  committed: () => void;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export interface CommitterOptions {
  /** Called after any rollback (an item's savepoint or the batch): state cached from the connection must go. */
  onRollback?: () => void;
  /** Each flushed batch's size and how long it took to run and commit (metrics). */
  onBatch?: (size: number, seconds: number) => void;
  maxBatch?: number;
}

export class Committer {
  private queue: Pending[] = [];
  private scheduled = false;
  private running = false;
  private drained: Array<() => void> = [];
  private readonly onRollback: () => void;
  private readonly onBatch: (size: number, seconds: number) => void;
  private readonly maxBatch: number;
  private readonly sql: Record<'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollbackTo', Statement>;

  constructor(private readonly db: Db, options: CommitterOptions = {}) {
    this.onRollback = options.onRollback ?? (() => {});
    this.onBatch = options.onBatch ?? (() => {});
    this.maxBatch = options.maxBatch ?? 256;
    this.sql = {
      begin: db.prepare('BEGIN'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT item'),
      release: db.prepare('RELEASE item'),
      rollbackTo: db.prepare('ROLLBACK TO item'),
    };
  }

  /** Runs `fn` inside the next batch's transaction; resolves once that transaction has committed. */
  commit<T>(fn: () => Promise<T>, committed: () => void = () => {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, committed, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Resolves when no batch is queued or running. */
  idle(): Promise<void> {
    if (!this.running && !this.scheduled && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    this.running = true;
    const batch = this.queue.splice(0, this.maxBatch);
    try {
      await this.run(batch);
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.schedule();
      else for (const done of this.drained.splice(0)) done();
    }
  }

  private async run(batch: Pending[]): Promise<void> {
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    const started = performance.now();
    try {
      this.sql.begin.run();
      for (const item of batch) {
        this.sql.savepoint.run();
        try {
          const value = await item.fn();
          this.sql.release.run();
          outcomes.push({ ok: true, value });
        } catch (error) {
          // Some errors (disk full, I/O) end the whole transaction: then the batch fails below.
          if (!this.db.inTransaction) throw error;
          this.sql.rollbackTo.run();
          this.sql.release.run();
          this.onRollback();
          outcomes.push({ ok: false, error });
        }
      }
      this.sql.commit.run();
    } catch (error) {
      if (this.db.inTransaction) this.sql.rollback.run();
      this.onRollback();
      for (const item of batch) item.reject(error);
      return;
    }
    this.onBatch(batch.length, (performance.now() - started) / 1000);
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (!outcome.ok) return item.reject(outcome.error);
      item.committed();
      item.resolve(outcome.value);
    });
  }
}
