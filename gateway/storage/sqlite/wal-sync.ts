/**
 * The WAL's fsync, taken off the event loop. better-sqlite3 is synchronous: at synchronous=FULL every COMMIT
 * blocked the gateway's one thread for the whole WAL fsync. Instead the write connection runs at
 * synchronous=NORMAL (COMMIT only write()s its frames to gateway.db-wal; SQLite still syncs the WAL before a
 * checkpoint, the database after it and the WAL header when the file is reused), and the committer calls
 * fdatasync on this file through libuv's threadpool before it acknowledges a batch: the durability of FULL for
 * everything acknowledged, on a process crash and on power loss alike (docs/decisions.md).
 */
import { fdatasync, fstatSync, openSync, closeSync, stat } from 'node:fs';
import { promisify } from 'node:util';
import { Unavailable } from '../../errors.js';
import type { Db } from '../db.js';

export interface WalSyncer {
  /** Resolves once every frame written to the WAL before the call is on stable storage. */
  sync(): Promise<void>;
  close(): void;
}

const datasync = promisify(fdatasync);
const statPath = promisify(stat);

/** fdatasync on a descriptor held open on the WAL; refuses if the path no longer names that file. */
export function walFileSyncer(walPath: string): WalSyncer {
  const fd = openSync(walPath, 'r+');
  const { dev, ino } = fstatSync(fd);
  let closed = false;
  return {
    async sync() {
      await datasync(fd);
      // SQLite keeps the WAL (and its inode: journal_size_limit truncates in place) while a connection is open;
      // another file at the path would mean the frames just synced are not the ones SQLite recovers from.
      const now = await statPath(walPath).catch(() => undefined);
      if (!now || now.dev !== dev || now.ino !== ino) throw new Unavailable('the database write-ahead log was replaced under the gateway');
    },
    close() {
      // Once only: the number may be reused by another file after the first close (a store closed twice).
      if (closed) return;
      closed = true;
      closeSync(fd);
    },
  };
}

/**
 * Switches the write connection to synchronous=NORMAL with a syncer for its WAL, or leaves it at FULL (COMMIT
 * durable by itself) and returns undefined when the database is not in WAL mode or its WAL file is missing.
 */
export function deferWalSync(db: Db, path: string, open: (walPath: string) => WalSyncer = walFileSyncer): WalSyncer | undefined {
  if (db.pragma('journal_mode', { simple: true }) !== 'wal') return undefined;
  let syncer: WalSyncer;
  try {
    syncer = open(`${path}-wal`); // exists: opening the database in WAL mode (and migrating it) created it
  } catch {
    return undefined;
  }
  db.pragma('synchronous = NORMAL');
  return syncer;
}
