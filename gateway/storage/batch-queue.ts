/**
 * The group commit's queue, shared by both engines' committers (sqlite/committer.ts, postgres/committer.ts):
 * items that arrive while a batch runs wait for the next one; a batch takes up to `maxBatch` of them, and
 * the next starts only after it (one batch at a time, so one connection is never shared by two items).
 * An engine says how to run a batch; the queue says when.
 */
/** An item of a batch; `Args` is what the engine hands each item (PostgreSQL: the batch's connection). */
export interface Pending<Args extends unknown[]> {
  fn: (...args: Args) => Promise<unknown>;
  /** Runs after the batch is durable, before the item's promise resolves (wake-ups, the log's size). */
  committed: () => void;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export abstract class BatchQueue<Args extends unknown[]> {
  private queue: Array<Pending<Args>> = [];
  private scheduled = false;
  private running = false;
  private drained: Array<() => void> = [];

  protected constructor(private readonly maxBatch: number) {}

  /** Runs `fn` in the next batch; resolves with its value once that batch is durable. */
  commit<T>(fn: (...args: Args) => Promise<T>, committed: () => void = () => {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, committed, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Resolves when no batch is queued or running, and the engine has nothing in flight (`busy`). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  /** Runs one batch: settles every item's promise (or leaves that to work it tracks through `busy`). */
  protected abstract run(batch: Array<Pending<Args>>): Promise<void>;

  /** Work of the engine's own that `idle` must wait for after the batches (SQLite: a WAL sync). */
  protected busy(): boolean {
    return false;
  }

  /** Wakes `idle`'s waiters if nothing is left; the engine calls it when its own work ends. */
  protected settleIdle(): void {
    if (this.isIdle()) for (const done of this.drained.splice(0)) done();
  }

  private isIdle(): boolean {
    return !this.running && !this.scheduled && this.queue.length === 0 && !this.busy();
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    this.running = true;
    try {
      await this.run(this.queue.splice(0, this.maxBatch));
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.schedule();
      else this.settleIdle();
    }
  }
}
