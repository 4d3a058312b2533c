/**
 * Group commit on PostgreSQL (the contract in ../store.ts; the SQLite twin is ../sqlite/committer.ts).
 * Items that arrive while a batch runs wait for the next one; a batch takes one pooled connection and runs
 * its items one after another in ONE transaction, each in its own savepoint (a failing item rolls back
 * alone), and settles their promises after COMMIT: one commit (one WAL flush with synchronous_commit=on)
 * per batch. Items really yield here (every statement is a round trip), so batches fill under load.
 */
import type pg from 'pg';
import { BatchQueue, type Pending } from '../batch-queue.js';

type Item = Pending<[client: pg.PoolClient]>;

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

export class Committer extends BatchQueue<[client: pg.PoolClient]> {
  constructor(private readonly pool: pg.Pool, private readonly options: CommitterOptions = {}) {
    super(options.maxBatch ?? 256);
  }

  protected async run(batch: Item[]): Promise<void> {
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
