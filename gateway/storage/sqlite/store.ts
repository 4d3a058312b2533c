/**
 * The SQLite engine of the Store (../store.ts): one file, one process. Writes go through the group committer
 * on the write connection; everything else reads through a second, read-only connection, which in WAL mode
 * sees committed state only. Why two connections rather than making sure no item ever yields: an item is an
 * async function, and while it awaits, a request's read on the same connection would see the batch's
 * uncommitted writes (a consent shown that may still roll back); a second connection rules that out by
 * construction, as PostgreSQL's pool does, at the cost of a second page cache.
 *
 * The statements are the repositories in ../{consents,idempotency,transfers,decisions}.ts, answered
 * through settled promises.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { createTreeStore } from '../../audit/tree-store.js';
import { auditQueries } from '../../audit/query.js';
import { IdempotencyKeyTaken } from '../../errors.js';
import { consentRepository } from '../consents.js';
import { openDatabase, type Db } from '../db.js';
import { decisionRepository } from '../decisions.js';
import { idempotencyRepository } from '../idempotency.js';
import { LocalNotifier } from '../local-notifier.js';
import type { SignedCheckpoint } from '../rows.js';
import type {
  AppendedEvent,
  AuditReads,
  Channel,
  LeasedRow,
  LogHead,
  SequencedEvent,
  Store,
  StoreOptions,
  StoreReads,
  StoreTx,
} from '../store.js';
import { submissionRepository, transferRepository } from '../transfers.js';
import { Committer } from './committer.js';
import { deferWalSync, type WalSyncer } from './wal-sync.js';

export const DATABASE_FILE = 'gateway.db';

/** Every method of `repo`, answering with a promise through `through` (a throw becomes a rejection). */
type Async<T> = { [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<R> : never };

function asyncify<T extends object>(repo: T, through: <R>(fn: () => R) => Promise<R> = settle): Async<T> {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(repo)) {
    if (typeof fn !== 'function') continue;
    out[name] = (...args: unknown[]) => through(() => fn(...args));
  }
  return out as Async<T>;
}

const settle = <T>(fn: () => T): Promise<T> => {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error);
  }
};

export interface SqliteStore extends Store {
  readonly engine: 'sqlite';
  /** The file. */
  readonly path: string;
  /** The write connection: for tests and tools that inspect the file; the domain never uses it. */
  readonly db: Db;
}

export async function openSqliteStore(options: StoreOptions): Promise<SqliteStore> {
  return createSqliteStore(join(options.dataDir, DATABASE_FILE), options);
}

export interface SqliteStoreOptions extends Omit<StoreOptions, 'dataDir'> {
  /** Opens the syncer of the WAL (wal-sync.ts); tests pass one they control. */
  walSyncer?: (walPath: string) => WalSyncer;
}

/** Opens (creating and migrating) the database at `path`. */
export function createSqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteStore {
  const db = openDatabase(path);
  const syncer = deferWalSync(db, path, options.walSyncer);
  // This connection is the file's one writer, and every rollback goes through onRollback below.
  const tree = createTreeStore(db, { rememberEdge: true });
  const readDb = new Database(path, { readonly: true, fileMustExist: true });
  readDb.pragma('cache_size = -65536');
  readDb.pragma('busy_timeout = 5000');

  // The log head (and the tree's right edge), cached between appends; dropped on any rollback and re-read.
  let head: LogHead | null = null;
  const lastEvent = db.prepare('SELECT seq, leaf_hash FROM audit_events ORDER BY seq DESC LIMIT 1');
  const insertEvent = db.prepare(
    `INSERT INTO audit_events (seq, at, action, actor, consent_id, transfer_id, patient_ref, parties, event_json, leaf_hash)
     VALUES (@seq, @at, @action, @actor, @consent, @transfer, @patient, @parties, @json, @leaf)`,
  );
  const readHead = (): LogHead => {
    const row = lastEvent.get() as { seq: number; leaf_hash: Buffer } | undefined;
    return row ? { seq: row.seq + 1, prev: row.leaf_hash } : { seq: 0, prev: null };
  };
  const append = (build: (head: LogHead) => SequencedEvent): AppendedEvent => {
    if (!db.inTransaction) throw new TypeError('audit events must be appended inside a transaction');
    const at = (head ??= readHead());
    const event = build(at);
    if (event.seq !== at.seq) throw new Error('audit event built for another position in the log');
    insertEvent.run(event);
    if (tree.append(event.leaf) !== event.seq + 1) throw new Error('audit log and Merkle tree disagree on size');
    head = { seq: event.seq + 1, prev: event.leaf };
    return { seq: event.seq, leafHash: event.leaf };
  };

  const notifier = new LocalNotifier();
  const committer = new Committer(db, {
    onRollback: () => {
      head = null;
      tree.forget();
    },
    ...(options.onBatch ? { onBatch: options.onBatch } : {}),
    ...(options.maxBatch ? { maxBatch: options.maxBatch } : {}),
    ...(syncer ? { syncer } : {}),
  });

  const idempotency = idempotencyRepository(db);
  const transfers = transferRepository(db);
  const writes = {
    consents: asyncify(consentRepository(db)),
    submissions: asyncify(submissionRepository(db)),
    transfers: asyncify(transfers),
    decisions: asyncify(decisionRepository(db)),
  };
  const txIdempotency: StoreTx['idempotency'] = {
    lookup: <T>(partyId: string, method: string, key: string, digest: string) =>
      settle(() => idempotency.lookup<T>(partyId, method, key, digest)),
    remember: (partyId, method, key, digest, response, at) =>
      settle(() => {
        try {
          idempotency.remember(partyId, method, key, digest, response, at);
        } catch (error) {
          if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
            throw new IdempotencyKeyTaken('idempotency_key was committed by another request first', { cause: error });
          }
          throw error;
        }
      }),
  };
  const leaseReady = (insurer: string, now: number, until: number, limit: number): LeasedRow[] =>
    transfers.ready(insurer, now, limit).map((row) => {
      transfers.lease(row.transfer_id, now, until);
      return {
        ...row,
        state: 'delivered',
        lease_expires_at: until,
        delivery_attempts: row.delivery_attempts + 1,
        delivered_at: row.delivered_at ?? now,
      };
    });

  /** One item's view: the shared statements, its own appends and wake-ups. */
  const newItem = () => {
    const notes: Array<[Channel, string]> = [];
    let appendedSize = -1;
    const tx: StoreTx = {
      ...writes,
      transfers: {
        ...writes.transfers,
        leaseReady: (insurer, now, until, limit) => settle(() => leaseReady(insurer, now, until, limit)),
      },
      idempotency: txIdempotency,
      audit: {
        append: (build) =>
          settle(() => {
            const appended = append(build);
            appendedSize = appended.seq + 1;
            return appended;
          }),
      },
      notify: (channel, payload = '') => void notes.push([channel, payload]),
    };
    const committed = () => {
      for (const [channel, payload] of notes) notifier.publish(channel, payload);
      if (appendedSize >= 0) notifier.publish('audit', String(appendedSize));
    };
    return { tx, committed };
  };

  // A read answers only once what it saw is durable: nobody is told of a state a power loss could still undo.
  const settleRead = <T>(fn: () => T): Promise<T> => {
    try {
      const value = fn();
      return committer.durable().then(() => value);
    } catch (error) {
      return Promise.reject(error);
    }
  };
  const reads = sqliteReads(readDb, settleRead);
  const store: SqliteStore = {
    engine: 'sqlite',
    path,
    db,
    transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
      const item = newItem();
      return committer.commit(() => fn(item.tx), item.committed);
    },
    reads,
    notifier,
    log: {
      lead: () => Promise.resolve(true),
      // Appends integrate in their own transaction (one writer): nothing is left to integrate.
      integrate: () => reads.audit.tree.size(),
      putCheckpoint: (checkpoint, signedAt) => committer.commit(() => settle(() => putCheckpoint(checkpoint, signedAt))),
    },
    async close() {
      await committer.idle();
      syncer?.close();
      readDb.close();
      db.close();
    },
  };

  const insertCheckpoint = db.prepare('INSERT OR IGNORE INTO checkpoints (tree_size, root_hash, note, signed_at) VALUES (?, ?, ?, ?)');
  const checkpointOfSize = db.prepare('SELECT tree_size, root_hash, note FROM checkpoints WHERE tree_size = ?');
  function putCheckpoint(checkpoint: SignedCheckpoint, signedAt: number): SignedCheckpoint {
    insertCheckpoint.run(checkpoint.treeSize, checkpoint.rootHash, checkpoint.note, signedAt);
    const row = checkpointOfSize.get(checkpoint.treeSize) as { tree_size: number; root_hash: Buffer; note: string };
    return { treeSize: row.tree_size, rootHash: row.root_hash, note: row.note };
  }

  return store;
}

/** The committed-state reads, on the read-only connection. */
function sqliteReads(db: Db, settle: <T>(fn: () => T) => Promise<T>): StoreReads {
  const consents = consentRepository(db);
  const idempotency = idempotencyRepository(db);
  const transfers = transferRepository(db);
  const ping = db.prepare('SELECT 1');
  const queue = db.prepare(
    `SELECT insurer_id AS insurer, COUNT(*) AS depth, MIN(created_at) AS oldest FROM transfers WHERE state = 'pending' GROUP BY insurer_id`,
  );
  return {
    consents: {
      get: (id) => settle(() => consents.get(id)),
      visibleTo: (viewer, id) => settle(() => consents.visibleTo(viewer, id)),
      unrevokedForPatient: (key) => settle(() => consents.unrevokedForPatient(key)),
      list: (filter) => settle(() => consents.list(filter)),
    },
    idempotency: {
      lookup: <T>(partyId: string, method: string, key: string, digest: string) =>
        settle(() => idempotency.lookup<T>(partyId, method, key, digest)),
    },
    submissions: asyncify({ get: submissionRepository(db).get }, settle),
    transfers: {
      get: (id) => settle(() => transfers.get(id)),
      payload: (id) => settle(() => transfers.payload(id)),
      forSubmission: (id) => settle(() => transfers.forSubmission(id)),
      nextLeaseExpiry: (insurer) => settle(() => transfers.nextLeaseExpiry(insurer)),
      queue: () => settle(() => queue.all() as Array<{ insurer: string; depth: number; oldest: number }>),
    },
    decisions: (() => {
      const d = decisionRepository(db);
      return asyncify(
        { get: d.get, forTransfer: d.forTransfer, latestForTransfer: d.latestForTransfer, forHospital: d.forHospital, timings: d.timings },
        settle,
      );
    })(),
    audit: auditReads(db, settle),
    ping: () => settle(() => void ping.get()),
  };
}

function auditReads(db: Db, settle: <T>(fn: () => T) => Promise<T>): AuditReads {
  const queries = auditQueries(db);
  const tree = createTreeStore(db);
  const last = db.prepare('SELECT seq FROM audit_events ORDER BY seq DESC LIMIT 1').pluck();
  const forTransfer = db.prepare(
    `SELECT seq, event_json FROM audit_events WHERE seq < ? AND (json_extract(event_json, '$.transfer') = ?
     OR (json_extract(event_json, '$.action') = 'record.submit' AND json_extract(event_json, '$.submission') = ?))
     ORDER BY seq`,
  );
  const latest = db.prepare('SELECT tree_size, root_hash, note FROM checkpoints ORDER BY tree_size DESC LIMIT 1');
  const signedAt = db.prepare('SELECT MAX(signed_at) FROM checkpoints').pluck();
  return {
    size: () => settle(() => ((last.get() as number | undefined) ?? -1) + 1),
    get: (seq) => settle(() => queries.get(seq)),
    range: (start, limit) => settle(() => queries.range(start, limit)),
    packedRange: (start, limit) => settle(() => queries.packedRange(start, limit)),
    page: (filter, limit) => settle(() => queries.page(filter, limit)),
    forTransfer: (transferId, submissionId, beforeSeq) =>
      settle(() => forTransfer.all(beforeSeq, transferId, submissionId) as Array<{ seq: number; event_json: string }>),
    tree: {
      size: () => settle(() => tree.size()),
      root: (size) => settle(() => tree.root(size)),
      inclusionProof: (index, size) => settle(() => tree.inclusionProof(index, size)),
      consistencyProof: (size1, size2) => settle(() => tree.consistencyProof(size1, size2)),
      nodes: (fromSize, toSize) => settle(() => tree.nodes(fromSize, toSize)),
    },
    checkpoints: {
      latest: () =>
        settle(() => {
          const row = latest.get() as { tree_size: number; root_hash: Buffer; note: string } | undefined;
          return row && { treeSize: row.tree_size, rootHash: row.root_hash, note: row.note };
        }),
      latestSignedAt: () => settle(() => (signedAt.get() as number | null) ?? undefined),
    },
  };
}
