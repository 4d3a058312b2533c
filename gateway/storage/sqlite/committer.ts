/**
 * Group commit on SQLite. Items (async functions) that arrive while a flush is pending run one after another
 * in ONE outer transaction, each in its own savepoint (one failing item does not undo the others); their
 * promises settle once that COMMIT is durable: one fsync per batch instead of one per request, and no
 * request is acknowledged before its write is durable. With a WalSyncer (wal-sync.ts: synchronous=NORMAL)
 * the fsync runs on libuv's threadpool after COMMIT, the event loop free meanwhile; the next batch may run
 * and commit during it (later in the WAL, so the next sync covers it), and batches settle in order. Without
 * one, COMMIT itself was durable (synchronous=FULL). Reads wait through `durable()` the same way.
 *
 * Items run strictly one at a time and the next batch starts only after this one committed, so the write
 * connection is never shared between two items. While an item awaits, other code may run: it cannot see
 * the batch's uncommitted writes because everything outside the committer reads through the store's
 * separate read-only connection (see store.ts). SQLite items await only their `tx`, whose calls settle at
 * once, so a batch still runs in one go without giving the event loop a turn.
 */
import type { Statement } from 'better-sqlite3';
import { Unavailable } from '../../errors.js';
import { BatchQueue, type Pending } from '../batch-queue.js';
import type { Db } from '../db.js';
import type { WalSyncer } from './wal-sync.js';

type Item = Pending<[]>;

export interface CommitterOptions {
  /** Called after any rollback (an item's savepoint or the batch): state cached from the connection must go. */
  onRollback?: () => void;
  /** Each flushed batch's size and how long it took to run and commit (metrics). */
  onBatch?: (size: number, seconds: number) => void;
  maxBatch?: number;
  /** Makes COMMITs durable after the fact; without it COMMIT is taken to be durable (synchronous=FULL). */
  syncer?: WalSyncer;
}

export class Committer extends BatchQueue<[]> {
  private readonly onRollback: () => void;
  private readonly onBatch: (size: number, seconds: number) => void;
  private readonly syncer: WalSyncer | undefined;
  /** COMMITs so far, and how many of them are known durable. */
  private committedCount = 0;
  private durableCount = 0;
  private syncing = false;
  private waiters: Array<{ upTo: number; resolve: () => void; reject: (error: unknown) => void }> = [];
  /** A failed fsync: nothing after it is acknowledged (a retried fsync may report success for lost pages). */
  private failed: Unavailable | undefined;
  private readonly sql: Record<'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollbackTo', Statement>;

  constructor(private readonly db: Db, options: CommitterOptions = {}) {
    super(options.maxBatch ?? 256);
    this.onRollback = options.onRollback ?? (() => {});
    this.onBatch = options.onBatch ?? (() => {});
    this.syncer = options.syncer;
    this.sql = {
      begin: db.prepare('BEGIN'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT item'),
      release: db.prepare('RELEASE item'),
      rollbackTo: db.prepare('ROLLBACK TO item'),
    };
  }

  /** Resolves once every COMMIT made so far is durable: a read's answer waits on it (store.ts). */
  durable(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.durableCount >= this.committedCount) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ upTo: this.committedCount, resolve, reject }));
  }

  protected override busy(): boolean {
    return this.syncing;
  }

  /** One fsync at a time; each covers every COMMIT made before it started. */
  private async syncLoop(): Promise<void> {
    if (this.syncing || !this.syncer) return;
    this.syncing = true;
    try {
      while (!this.failed && this.durableCount < this.committedCount) {
        const upTo = this.committedCount;
        try {
          await this.syncer.sync();
        } catch (error) {
          this.failed = new Unavailable('the database could not make its log durable: restart the gateway', { cause: error });
          break;
        }
        this.durableCount = upTo;
        while (this.waiters.length > 0 && this.waiters[0]!.upTo <= upTo) this.waiters.shift()!.resolve();
      }
      if (this.failed) for (const waiter of this.waiters.splice(0)) waiter.reject(this.failed);
    } finally {
      this.syncing = false;
      this.settleIdle();
    }
  }

  protected async run(batch: Item[]): Promise<void> {
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    const started = performance.now();
    if (this.failed) {
      for (const item of batch) item.reject(this.failed);
      return;
    }
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
    this.committedCount += 1;
    if (!this.syncer) this.durableCount = this.committedCount;
    const durable = this.durable();
    void this.syncLoop();
    // Wake-ups, acknowledgements and refusals only once the batch is durable, in COMMIT order.
    durable.then(
      () =>
        batch.forEach((item, i) => {
          const outcome = outcomes[i]!;
          if (!outcome.ok) return item.reject(outcome.error);
          item.committed();
          item.resolve(outcome.value);
        }),
      (error: unknown) => batch.forEach((item) => item.reject(error)),
    );
  }
}
