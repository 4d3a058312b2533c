/**
 * An exclusive lock on a folder, so that two processes never work on the same data (two gateways on one
 * database, two followers writing one HIS inbox). The lock is an SQLite file held in an open EXCLUSIVE
 * transaction: SQLite locks with POSIX record locks (fcntl), which the kernel drops when the holding process
 * ends in any way — SIGKILL, a crash, power loss — so a stale lock never blocks a restart and no pid is
 * trusted (pids are reused). The holder writes who it is beside the lock, for the refusal message only.
 */
import Database from 'better-sqlite3';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'hdx.lock';
const HOLDER_FILE = 'hdx.lock.holder';

export class FolderLockedError extends Error {
  override readonly name = 'FolderLockedError';
}

export interface FolderLock {
  readonly dir: string;
  release(): void;
}

/**
 * Takes the lock on `dir` (which must exist) for `holder` (e.g. "hdx gateway serve"), or throws
 * FolderLockedError at once — or after `waitMs`, if given, while another process holds it.
 */
export function lockFolder(dir: string, holder: string, options: { waitMs?: number } = {}): FolderLock {
  const db = new Database(join(dir, LOCK_FILE), { timeout: options.waitMs ?? 0 });
  try {
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
    throw new FolderLockedError(`${dir} is in use by another process${holderOf(dir)}; stop it first, or give another folder`);
  }
  writeFileSync(join(dir, HOLDER_FILE), `${JSON.stringify({ holder, pid: process.pid, since: new Date().toISOString() })}\n`);
  let held = true;
  return {
    dir,
    release() {
      if (!held) return;
      held = false;
      db.close(); // ends the transaction: the lock is free
    },
  };
}

/** " (hdx gateway serve, pid 123, since …)", as the holder wrote it; empty if unreadable. */
function holderOf(dir: string): string {
  try {
    const h = JSON.parse(readFileSync(join(dir, HOLDER_FILE), 'utf8')) as { holder?: unknown; pid?: unknown; since?: unknown };
    return ` (${String(h.holder)}, pid ${String(h.pid)}, since ${String(h.since)})`;
  } catch {
    return '';
  }
}
