/**
 * The leader lease of the PostgreSQL engine's LogSequencer: a session-level advisory lock held on one
 * dedicated connection. Exactly one session holds it; PostgreSQL releases it when that session ends, so a
 * leader that dies (process killed, connection cut, backend terminated) is replaced by the next replica
 * whose `lead()` asks.
 *
 * `lead()` never answers from memory: while it has a connection it asks that session whether it still
 * holds the lock (pg_locks, one round trip), so a lease lost without our noticing is not believed in.
 * It does not fence a write already under way; what must never happen twice (two checkpoints of one size)
 * is kept out by the database's keys, not by the lease.
 */
import pg from 'pg';

export interface LeaderLeaseOptions {
  /** The advisory lock's two keys (the engine's LOCK_CLASS and its leader lock). */
  key: readonly [number, number];
  /** Told when the held lease is lost (its connection ended). */
  onLost?: () => void;
}

export class LeaderLease {
  private client: pg.Client | undefined;
  private holding = false;
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly config: pg.ClientConfig, private readonly options: LeaderLeaseOptions) {}

  /** True while this process holds the lease as of this call; tries to take it if not. */
  lead(): Promise<boolean> {
    // One question at a time on the one connection.
    const next = this.queue.then(() => this.ask());
    this.queue = next.catch(() => {});
    return next;
  }

  /** What the last `lead()` found (and false since the connection was lost). */
  get leading(): boolean {
    return this.holding;
  }

  /** The lease's session (tests end it with pg_terminate_backend). */
  get backendPid(): number | undefined {
    return (this.client as unknown as { processID?: number } | undefined)?.processID;
  }

  /** Gives the lease up (the session ends; the lock goes with it). */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    // Resolves once the session has ended: another replica's next lead() may then take the lease.
    await this.drop();
  }

  private async ask(retry = true): Promise<boolean> {
    if (this.closed) return false;
    const reused = this.client !== undefined;
    try {
      const client = this.client ?? (await this.connect());
      const [classId, objId] = this.options.key;
      const held = this.holding
        ? (await client.query<{ held: boolean }>(
            `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
               AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 2) AS held`,
            [classId, objId],
          )).rows[0]!.held
        : false;
      if (held) return true;
      const taken = (await client.query<{ taken: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS taken', [classId, objId])).rows[0]!.taken;
      this.setHolding(taken);
      return taken;
    } catch {
      // The session died since the last question: ask once more on a new one. No database: not the leader.
      void this.drop();
      return reused && retry ? this.ask(false) : false;
    }
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({ ...this.config, keepAlive: true });
    const ended = () => {
      if (this.client !== client) return;
      this.client = undefined;
      this.setHolding(false);
    };
    client.on('error', ended);
    client.on('end', ended);
    await client.connect();
    this.client = client;
    return client;
  }

  private drop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.setHolding(false);
    return client ? client.end().catch(() => {}) : Promise.resolve();
  }

  private setHolding(holding: boolean): void {
    const lost = this.holding && !holding;
    this.holding = holding;
    if (lost) this.options.onLost?.();
  }
}
