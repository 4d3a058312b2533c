/**
 * Backing up the gateway's database while it serves, and putting a backup back. The copy is made with
 * SQLite's online backup API in one step, i.e. in one read transaction: a snapshot of every table at one
 * commit, so the audit events, the Merkle nodes and the signed checkpoints in it agree with one another
 * (writes go on meanwhile; WAL readers never block the writer). Each copy is checked before it counts — on
 * backup and again on restore: the file's integrity, the latest signed checkpoint's signature (the log key
 * in the gateway folder), and every event re-hashed into that checkpoint's root.
 */
import Database from 'better-sqlite3';
import { createPublicKey } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, fsyncSync, openSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { RootAccumulator } from '../compliance/root-accumulator.js';
import { lockFolder } from '../cli/runtime/folder-lock.js';
import { loadGatewayIdentity } from '../keys/exchange/load.js';
import { createNoteVerifier, leafHash, verifyCheckpoint } from '../keys/transparency/index.js';

export const DATABASE_FILE = 'gateway.db';

export class BackupRefused extends Error {
  override readonly name = 'BackupRefused';
}

export interface LogCheck {
  /** Audit events in the file. */
  events: number;
  /** The latest signed checkpoint's size; its root was recomputed from the events. */
  checkpointSize: number;
  rootHash: string;
}

/** Where the gateway keeps its database, and how its log checkpoints are verified. */
export interface GatewayFolders {
  gatewayDir: string;
  /** Default: the gateway folder. */
  dataDir?: string;
}

function logVerifierOf(gatewayDir: string) {
  const identity = loadGatewayIdentity(gatewayDir);
  const origin = `${identity.trustDomain}/audit/v1`;
  return { origin, verifier: createNoteVerifier(origin, createPublicKey(identity.logPublicKeyPem)) };
}

type EventRow = { seq: number; event_json: string; leaf_hash: Buffer };

/**
 * The log check of any copy (a backup file, a migrated database): the latest checkpoint's signature, then
 * every event, in seq order, re-hashed into that checkpoint's root. Throws BackupRefused naming `label`.
 */
export function logChecker(label: string, gatewayDir: string, latestNote: string | undefined, events: number) {
  const { origin, verifier } = logVerifierOf(gatewayDir);
  if (!latestNote) {
    if (events > 0) throw new BackupRefused(`${label}: ${events} audit events but no signed checkpoint`);
    return { push: (_row: EventRow) => {}, finish: (): LogCheck => ({ events: 0, checkpointSize: 0, rootHash: '' }) };
  }
  let checkpoint: ReturnType<typeof verifyCheckpoint>;
  try {
    checkpoint = verifyCheckpoint(latestNote, verifier, origin);
  } catch (error) {
    throw new BackupRefused(`${label}: the latest checkpoint does not verify with this gateway's log key (${(error as Error).message})`);
  }
  const root = new RootAccumulator();
  return {
    push(row: EventRow) {
      if (row.seq !== root.size) throw new BackupRefused(`${label}: audit event ${root.size} is missing`);
      const leaf = leafHash(Buffer.from(row.event_json, 'utf8'));
      if (!leaf.equals(row.leaf_hash)) throw new BackupRefused(`${label}: audit event ${row.seq} does not match its leaf hash`);
      root.push(leaf);
      if (root.size === checkpoint.size && !root.root().equals(Buffer.from(checkpoint.rootHash))) {
        throw new BackupRefused(`${label}: the audit events do not hash to the signed checkpoint at size ${checkpoint.size}`);
      }
    },
    finish(): LogCheck {
      if (root.size < checkpoint.size) throw new BackupRefused(`${label}: the signed checkpoint covers ${checkpoint.size} events, the file has ${root.size}`);
      return { events, checkpointSize: checkpoint.size, rootHash: Buffer.from(checkpoint.rootHash).toString('base64') };
    },
  };
}

/** Checks a database file (see the header); throws BackupRefused naming what failed. */
export function checkDatabaseLog(path: string, gatewayDir: string): LogCheck {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new BackupRefused(`${path}: cannot open it as a database (${(error as Error).message})`);
  }
  try {
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new BackupRefused(`${path}: the database file is damaged (${String(check)})`);
    const last = db.prepare('SELECT note FROM checkpoints ORDER BY tree_size DESC LIMIT 1').get() as { note: string } | undefined;
    const events = (db.prepare('SELECT count(*) AS n FROM audit_events').get() as { n: number }).n;
    const log = logChecker(path, gatewayDir, last?.note, events);
    for (const row of db.prepare('SELECT seq, event_json, leaf_hash FROM audit_events ORDER BY seq').iterate() as Iterable<EventRow>) log.push(row);
    return log.finish();
  } finally {
    db.close();
  }
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Copies the serving (or stopped) gateway's database to `file`, which must not exist, and checks the copy. */
export async function backupDatabase(folders: GatewayFolders, file: string): Promise<LogCheck> {
  const source = join(folders.dataDir ?? folders.gatewayDir, DATABASE_FILE);
  if (!existsSync(source)) throw new BackupRefused(`no database to back up: ${source}`);
  if (existsSync(file)) throw new BackupRefused(`${file} exists; give a new file name`);
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    // All remaining pages in each step: one step, one read transaction, one consistent snapshot.
    await db.backup(temp, { progress: () => 2 ** 30 });
  } finally {
    db.close();
  }
  // One self-contained file (the copy keeps the source's WAL mode otherwise, and wants -wal/-shm beside it).
  const copy = new Database(temp);
  copy.pragma('journal_mode = DELETE');
  copy.close();
  const check = checkDatabaseLog(temp, folders.gatewayDir);
  fsyncPath(temp);
  renameSync(temp, file);
  fsyncPath(dirname(file));
  return check;
}

/**
 * Puts a backup in place of the gateway's database, which must not be serving (its folder lock is taken
 * for the duration). A database already there is kept beside, renamed `gateway.db.replaced-<time>`.
 */
export function restoreDatabase(file: string, folders: GatewayFolders): LogCheck & { replaced?: string } {
  const dataDir = folders.dataDir ?? folders.gatewayDir;
  const check = checkDatabaseLog(file, folders.gatewayDir);
  const lock = lockFolder(dataDir, 'hdx gateway restore');
  try {
    const target = join(dataDir, DATABASE_FILE);
    let replaced: string | undefined;
    if (existsSync(target)) {
      replaced = `${target}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      // The WAL may hold committed pages: it goes with its database.
      for (const suffix of ['-wal', '-shm']) if (existsSync(target + suffix)) renameSync(target + suffix, replaced + suffix);
      renameSync(target, replaced);
    }
    const temp = `${target}.restore-${process.pid}.tmp`;
    copyFileSync(file, temp);
    fsyncPath(temp);
    renameSync(temp, target);
    fsyncPath(dataDir);
    return { ...check, ...(replaced !== undefined && { replaced }) };
  } finally {
    lock.release();
  }
}
