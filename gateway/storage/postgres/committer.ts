/**
 * Group commit on PostgreSQL (the contract in ../store.ts; the SQLite twin is ../sqlite/committer.ts).
 * Items that arrive while a batch runs wait for the next one; a batch takes one pooled connection and runs
 * its items one after another in ONE transaction, each in its own savepoint (a failing item rolls back
 * alone), and settles their promises after COMMIT: one commit (one WAL flush with synchronous_commit=on)
 * per batch. Items really yield here (every statement is a round trip), so batches fill under load.
 */
import type pg from 'pg';

interface Pending {
  fn: (client: pg.PoolClient) => Promise<unknown>;
  committed: () => void;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export interface CommitterOptions {
  /** Each batch's size and seconds from its start to COMMIT (metrics). */
  onBatch?: (size: number, seconds: number) => void;
  maxBatch?: number;
  /**
   * Runs after the items, before COMMIT, in a savepoint of its own: its failure is given to `onFinishError`
   * and undone alone, never failing the batch (the leader's integration: see store.ts).
   */
  finish?: (client: pg.PoolClient) => Promise<void>;
  onFinishError?: (error: unknown) => void;
}

export class Committer {
  private queue: Pending[] = [];
  private scheduled = false;
  private running = false;
  private drained: Array<() => void> = [];
  private readonly maxBatch: number;

  constructor(private readonly pool: pg.Pool, private readonly options: CommitterOptions = {}) {
    this.maxBatch = options.maxBatch ?? 256;
  }

  /** Runs `fn` on the batch's connection inside its transaction; resolves once that transaction committed. */
  commit<T>(fn: (client: pg.PoolClient) => Promise<T>, committed: () => void = () => {}): Promise<T> {
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
    let client: pg.PoolClient | undefined;
    let broken: Error | undefined;
    try {
      client = await this.pool.connect();
      await client.query('BEGIN');
      for (const item of batch) {
        await client.query('SAVEPOINT item');
        try {
          const value = await item.fn(client);
          await client.query('RELEASE SAVEPOINT item');
          outcomes.push({ ok: true, value });
        } catch (error) {
          // Undoes the item (and clears PostgreSQL's aborted-transaction state); if even that fails, the
          // connection is gone and the batch fails below.
          await client.query('ROLLBACK TO SAVEPOINT item');
          await client.query('RELEASE SAVEPOINT item');
          outcomes.push({ ok: false, error });
        }
      }
      if (this.options.finish) await this.finish(client, this.options.finish);
      // COMMIT of a transaction in the aborted state answers ROLLBACK, not an error.
      const done = await client.query('COMMIT');
      if (done.command !== 'COMMIT') throw new Error(`the batch's COMMIT answered ${done.command}`);
    } catch (error) {
      broken = error as Error;
      await client?.query('ROLLBACK').catch(() => {});
      for (const item of batch) item.reject(error);
      return;
    } finally {
      // A connection that failed mid-batch is destroyed rather than returned to the pool.
      client?.release(broken);
    }
    this.options.onBatch?.(batch.length, (performance.now() - started) / 1000);
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (!outcome.ok) return item.reject(outcome.error);
      item.committed();
      item.resolve(outcome.value);
    });
  }

  private async finish(client: pg.PoolClient, finish: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    await client.query('SAVEPOINT finish');
    try {
      await finish(client);
      await client.query('RELEASE SAVEPOINT finish');
    } catch (error) {
      await client.query('ROLLBACK TO SAVEPOINT finish');
      await client.query('RELEASE SAVEPOINT finish');
      this.options.onFinishError?.(error);
    }
  }
}
