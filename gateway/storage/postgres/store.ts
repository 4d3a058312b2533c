/**
 * The PostgreSQL engine of the Store (../store.ts), for several gateway replicas on one database. Writes go
 * through the group committer (one pooled connection per batch, a savepoint per item); committed-state reads
 * through the pool. What must hold across replicas is decided by the database: the idempotency key
 * (23505), the queue's row locks (SKIP LOCKED), the log head's row lock (seq, prev and decision cursors),
 * tree_head's lock for integration, checkpoints keyed by size.
 *
 * The log is sequenced by every replica and integrated by the leader (leader.ts). While this process leads,
 * each batch that appended events integrates them before its COMMIT (it holds the log head, so every
 * earlier event has committed): its tree is then as current as SQLite's. A follower's events wait for the
 * leader's next batch or `log.integrate()`.
 *
 * Wake-ups (notifier.ts) are published after COMMIT, as SQLite's are: delivered here at once and to the
 * other replicas by NOTIFY; a process that dies between COMMIT and NOTIFY costs the others a poll interval.
 */
import pg from 'pg';
import type { Channel, Store, StoreOptions, StoreReads, StoreTx } from '../store.js';
import { appendEvent, auditReads, putCheckpoint } from './audit.js';
import { Committer } from './committer.js';
import { clientConfig, type Queryable } from './connect.js';
import { consentStatements } from './consents.js';
import { decisionStatements } from './decisions.js';
import { idempotencyStatements } from './idempotency.js';
import { LeaderLease } from './leader.js';
import { LOCK_CLASS, LOCKS } from './locks.js';
import { migrate } from './migrate.js';
import { PostgresNotifier } from './notifier.js';
import { submissionStatements, transferStatements } from './transfers.js';
import { integrateInto } from './tree.js';

export interface PostgresStore extends Store {
  readonly engine: 'postgres';
  /** The committed-state pool: for tests and tools that inspect the database; the domain never uses it. */
  readonly pool: pg.Pool;
}

export async function openPostgresStore(options: StoreOptions): Promise<PostgresStore> {
  const connectionString = options.postgres?.connectionString;
  if (!connectionString) throw new TypeError('the PostgreSQL engine needs a connection string (postgres.connectionString)');
  const pool = new pg.Pool({ ...clientConfig(connectionString), max: 10 });
  // An idle connection that fails is dropped by the pool; without a listener the process would exit.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    try {
      await migrate(client);
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end();
    throw error;
  }

  const lease = new LeaderLease(clientConfig(connectionString), { key: [LOCK_CLASS, LOCKS.leader] });
  await lease.lead();
  // Wake-ups after COMMIT: here at once, other replicas through NOTIFY (best effort: they also poll).
  const notifier = await PostgresNotifier.open(clientConfig(connectionString)).catch(async (error: unknown) => {
    await lease.close();
    await pool.end();
    throw error;
  });
  let appended = false;
  const committer = new Committer(pool, {
    ...(options.onBatch ? { onBatch: options.onBatch } : {}),
    ...(options.maxBatch ? { maxBatch: options.maxBatch } : {}),
    finish: async (client) => {
      if (!appended || !lease.leading) return;
      appended = false;
      await integrateInto(client);
    },
  });

  /** One item's view of the batch's connection, and its wake-ups. */
  const newItem = (client: pg.PoolClient) => {
    const notes: Array<[Channel, string]> = [];
    let appendedSize = -1;
    const transfers = transferStatements(client);
    const decisions = decisionStatements(client);
    const tx: StoreTx = {
      consents: consentStatements(client),
      idempotency: idempotencyStatements(client),
      submissions: submissionStatements(client),
      transfers,
      decisions,
      audit: {
        async append(build) {
          const event = await appendEvent(client, build);
          appended = true;
          appendedSize = event.seq + 1;
          return event;
        },
      },
      notify: (channel, payload = '') => void notes.push([channel, payload]),
    };
    const committed = () => {
      for (const [channel, payload] of notes) notifier.publish(channel, payload);
      if (appendedSize >= 0) notifier.publish('audit', String(appendedSize));
    };
    return { tx, committed };
  };

  const reads = postgresReads(pool);
  let closing: Promise<void> | null = null;
  return {
    engine: 'postgres',
    pool,
    transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
      let item: ReturnType<typeof newItem> | undefined;
      return committer.commit(
        (client) => {
          item = newItem(client);
          return fn(item.tx);
        },
        () => item?.committed(),
      );
    },
    reads,
    notifier,
    log: {
      lead: () => lease.lead(),
      async integrate() {
        if (!(await lease.lead())) return reads.audit.tree.size();
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const size = await integrateInto(client);
          await client.query('COMMIT');
          return size;
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {});
          throw error;
        } finally {
          client.release();
        }
      },
      putCheckpoint: (checkpoint, signedAt) => putCheckpoint(pool, checkpoint, signedAt),
    },
    close() {
      closing ??= (async () => {
        await committer.idle();
        await lease.close();
        await notifier.close();
        await pool.end();
      })();
      return closing;
    },
  };
}

/** Committed state: each read on whichever pooled connection is free (autocommit, READ COMMITTED). */
function postgresReads(pool: Queryable): StoreReads {
  const consents = consentStatements(pool);
  const transfers = transferStatements(pool);
  const decisions = decisionStatements(pool);
  return {
    consents: { get: consents.get, visibleTo: consents.visibleTo, unrevokedForPatient: consents.unrevokedForPatient, list: consents.list },
    idempotency: { lookup: idempotencyStatements(pool).lookup },
    submissions: { get: submissionStatements(pool).get },
    transfers: {
      get: transfers.get,
      payload: transfers.payload,
      forSubmission: transfers.forSubmission,
      nextLeaseExpiry: transfers.nextLeaseExpiry,
      queue: transfers.queue,
    },
    decisions: {
      get: decisions.get,
      forTransfer: decisions.forTransfer,
      latestForTransfer: decisions.latestForTransfer,
      forHospital: decisions.forHospital,
      timings: decisions.timings,
    },
    audit: auditReads(pool),
    async ping() {
      await pool.query('SELECT 1');
    },
  };
}
