/**
 * The SQLite engine's deferred WAL sync (gateway/storage/sqlite/wal-sync.ts): the write connection commits at
 * synchronous=NORMAL and nothing — acknowledgement, wake-up, read answer — leaves the store before the WAL's
 * fdatasync for that COMMIT has completed. The syncer here is one the test releases by hand.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Unavailable } from '../../gateway/errors.js';
import { createSqliteStore, type SqliteStore } from '../../gateway/storage/sqlite/store.js';
import { walFileSyncer, type WalSyncer } from '../../gateway/storage/sqlite/wal-sync.js';

const T0 = Date.parse('2026-12-01T00:00:00.000Z');
const dirs: string[] = [];
const stores: SqliteStore[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close().catch(() => {});
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hdx-walsync-'));
  dirs.push(dir);
  return dir;
}

/** A syncer whose every sync waits until the test settles it; `calls` counts the syncs asked for. */
function heldSyncer() {
  const pending: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  let released = 0;
  let asked: (() => void) | undefined;
  const syncer: WalSyncer = {
    sync: () =>
      new Promise<void>((resolve, reject) => {
        pending.push({ resolve, reject });
        asked?.();
      }),
    close: () => {},
  };
  return {
    syncer,
    /** Resolves once `n` syncs have been asked for in all. */
    asked: (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => (pending.length + released >= n ? resolve() : undefined);
        asked = check;
        check();
      }),
    release: () => {
      released += 1;
      pending.shift()!.resolve();
    },
    fail: () => {
      released += 1;
      pending.shift()!.reject(new Error('EIO'));
    },
  };
}

/** Settled yet? (after the event loop has run everything that was ready). */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

function open(syncer: WalSyncer): SqliteStore {
  const store = createSqliteStore(join(tempDir(), 'gateway.db'), { walSyncer: () => syncer });
  stores.push(store);
  return store;
}

const remember = (store: SqliteStore, key: string) =>
  store.transaction(async (tx) => {
    await tx.idempotency.remember('nanshan-people', 'SubmitRecord', key, 'sha256:d', { key }, T0);
    tx.notify('audit', key);
    return key;
  });

const committedRows = (store: SqliteStore) =>
  new Database(store.path, { readonly: true }).prepare('SELECT COUNT(*) FROM idempotency').pluck().get();

describe('SQLite deferred WAL sync', () => {
  it('commits at synchronous=NORMAL and acknowledges, wakes and answers reads only after the datasync', async () => {
    const held = heldSyncer();
    const store = open(held.syncer);
    expect(store.db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    const woken: string[] = [];
    store.notifier.subscribe('audit', (payload) => woken.push(payload));

    const first = remember(store, 'k1');
    await held.asked(1); // COMMIT done, its sync asked for
    expect(committedRows(store)).toBe(1);
    const read = store.reads.idempotency.lookup('nanshan-people', 'SubmitRecord', 'k1', 'sha256:d');
    expect(await settled(first)).toBe(false);
    expect(await settled(read)).toBe(false);
    expect(woken).toEqual([]);

    // The next batch runs and commits while the first sync is in flight; it waits for a sync of its own.
    const second = remember(store, 'k2');
    await new Promise((resolve) => setImmediate(resolve));
    expect(committedRows(store)).toBe(2);
    held.release();
    expect(await first).toBe('k1');
    expect(await read).toEqual({ key: 'k1' });
    expect(woken).toEqual(['k1']);
    expect(await settled(second)).toBe(false);

    await held.asked(2);
    held.release();
    expect(await second).toBe('k2');
    expect(woken).toEqual(['k1', 'k2']);
  });

  it('acknowledges nothing after a failed sync', async () => {
    const held = heldSyncer();
    const store = open(held.syncer);
    const first = remember(store, 'k1');
    await held.asked(1);
    held.fail();
    await expect(first).rejects.toBeInstanceOf(Unavailable);
    await expect(remember(store, 'k2')).rejects.toBeInstanceOf(Unavailable);
    await expect(store.reads.ping()).rejects.toBeInstanceOf(Unavailable);
  });

  it('syncs the real WAL by default, and refuses once another file is at its path', async () => {
    const store = createSqliteStore(join(tempDir(), 'gateway.db'));
    stores.push(store);
    expect(store.db.pragma('synchronous', { simple: true })).toBe(1);
    expect(await remember(store, 'k1')).toBe('k1');

    const dir = tempDir();
    const wal = join(dir, 'x.db-wal');
    writeFileSync(wal, 'frames');
    const syncer = walFileSyncer(wal);
    await syncer.sync();
    writeFileSync(join(dir, 'other'), 'other');
    renameSync(join(dir, 'other'), wal);
    await expect(syncer.sync()).rejects.toBeInstanceOf(Unavailable);
    syncer.close();
    syncer.close(); // a store closed twice closes its descriptor once
  });
});
