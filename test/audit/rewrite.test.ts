/**
 * Rewriting history with direct access to the gateway's SQLite file. The officer verified the log once
 * and saved that checkpoint. Then the operator stops the gateway, drops the append-only triggers and
 * rewrites the log so it is self-consistent again (events re-chained, leaves and stored subtree hashes
 * recomputed, old checkpoints deleted), and restarts it: the gateway happily signs the new history, a
 * newcomer with no saved state finds nothing wrong — and `verifyLog` against the saved checkpoint fails.
 * Cruder edits (any event row, any stored hash, a stored checkpoint) are caught without saved state.
 * The cruder edits are row edits, made over SQL on either engine (PostgreSQL's append-only triggers
 * disabled); the offline rewrite re-chains the log in SQLite's file with the gateway's own tree code, so
 * it runs on SQLite only.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportLog } from '../../compliance/export.js';
import { verifyLog, type VerifyReport } from '../../compliance/verify.js';
import { grantConsent } from '../../hospital-adapter/consent.js';
import { createGenerator } from '../../synthetic/index.js';
import { Writable } from 'node:stream';
import { createTestExchange, idem, openSessions, startTestGateway, terms, waitFor, type Sessions, type TestExchange } from '../support/harness.js';
import { connectionSql, type TestSql } from '../support/sql.js';
import { testEngine } from '../support/stores.js';
import { populate } from './support.js';
import { dropAppendOnlyTriggers, rewriteLog, type RawEvent } from './tamper.js';

let ex: TestExchange;
let baseDir: string;
let savedSize: number;
const gen = createGenerator(99);

beforeAll(async () => {
  ex = await createTestExchange();
  baseDir = join(ex.root, 'base');
  const gw = await startTestGateway(ex, { dataDir: baseDir });
  const s = await openSessions(ex, gw);
  try {
    await populate(ex, s, 4);
    const report = await verifyLog(s.regulator, { statePath: join(baseDir, 'officer.json') });
    expect(report.ok).toBe(true);
    savedSize = report.treeSize;
  } finally {
    s.closeAll();
    await gw.stop();
  }
  // Not a power of two, so every stored hash is read by some inclusion proof (see "any stored hash").
  expect(savedSize & (savedSize - 1)).not.toBe(0);
}, 60_000);

afterAll(() => ex?.cleanup());

let copies = 0;
/** A copy of the stopped gateway's data and the officer's saved state, to tamper with. */
function copyOfBase(): string {
  const dir = join(ex.root, `copy-${++copies}`);
  mkdirSync(dir);
  for (const f of ['gateway.db', 'gateway.db-wal', 'officer.json']) {
    if (existsSync(join(baseDir, f))) copyFileSync(join(baseDir, f), join(dir, f));
  }
  return dir;
}

/** Adds `n` events through the real API (consent grants for new patients). */
async function grow(s: Sessions, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = gen.dischargeRecord({ hospitalId: 'nanshan-people' });
    await grantConsent(s.nanshan, { idempotencyKey: idem('regrow'), patientNationalId: r.patient.nationalId, terms: terms({ insurerId: 'taikang-online' }) });
  }
}

/** Tampers with a copy offline, restarts a gateway on it, optionally grows it, and verifies twice. */
async function afterOfflineRewrite(
  tamper: (db: Database.Database) => void,
  regrow = 0,
): Promise<{ saved: VerifyReport; newcomer: VerifyReport }> {
  const dir = copyOfBase();
  const db = new Database(join(dir, 'gateway.db'));
  tamper(db);
  db.close();
  const gw = await startTestGateway(ex, { dataDir: dir });
  const s = await openSessions(ex, gw);
  try {
    await grow(s, regrow);
    const newcomer = await verifyLog(s.regulator, { statePath: join(dir, 'newcomer.json') });
    const saved = await verifyLog(s.regulator, { statePath: join(dir, 'officer.json') });
    return { saved, newcomer };
  } finally {
    s.closeAll();
    await gw.stop();
  }
}

const swapRecipient = (events: RawEvent[]) =>
  events.map((e) => {
    if (e.action !== 'transfer.create' || (e['parties'] as string[])[1] !== 'taikang-online') return e;
    return { ...e, parties: [(e['parties'] as string[])[0]!, 'pingan-health'] };
  });

const engine = testEngine();

describe.runIf(engine === 'sqlite')('a checkpoint signed over a rewritten history is caught by the saved checkpoint (SQLite: rewritten in the file)', () => {
  it('an event changed (a transfer’s recipient rewritten), same size', async () => {
    const { saved, newcomer } = await afterOfflineRewrite((db) => rewriteLog(db, swapRecipient));
    expect(newcomer.ok).toBe(true); // self-consistent: only history can tell
    expect(newcomer.treeSize).toBe(savedSize);
    expect(saved.ok).toBe(false);
    expect(saved.failure).toMatch(new RegExp(`^consistency with the saved checkpoint: same size ${savedSize} but a different root`));
  });

  it('an event changed, then the log grew past the saved size', async () => {
    const { saved, newcomer } = await afterOfflineRewrite((db) => rewriteLog(db, swapRecipient), 3);
    expect(newcomer.ok).toBe(true);
    expect(saved.ok).toBe(false);
    expect(saved.failure).toMatch(new RegExp(`^consistency with the saved checkpoint: size ${savedSize + 3} does not extend the saved size ${savedSize}`));
  });

  it('an event removed (a delivery erased)', async () => {
    const remove = (events: RawEvent[]) => {
      const i = events.findIndex((e) => e.action === 'transfer.deliver');
      return events.filter((_, j) => j !== i);
    };
    const shrunk = await afterOfflineRewrite((db) => rewriteLog(db, remove));
    expect(shrunk.newcomer.ok).toBe(true);
    expect(shrunk.saved.failure).toMatch(new RegExp(`^consistency with the saved checkpoint: the log shrank from ${savedSize} to ${savedSize - 1}`));
    // Hiding the removal by growing past the old size does not help.
    const regrown = await afterOfflineRewrite((db) => rewriteLog(db, remove), 4);
    expect(regrown.newcomer.ok).toBe(true);
    expect(regrown.saved.failure).toMatch(/^consistency with the saved checkpoint: size \d+ does not extend the saved size/);
  });

  it('the log truncated and regrown past the saved size', async () => {
    const keep = Math.floor(savedSize / 2);
    const { saved, newcomer } = await afterOfflineRewrite((db) => rewriteLog(db, (events) => events.slice(0, keep)), savedSize - keep + 2);
    expect(newcomer.ok).toBe(true);
    expect(newcomer.treeSize).toBe(savedSize + 2);
    expect(saved.ok).toBe(false);
    expect(saved.failure).toMatch(new RegExp(`^consistency with the saved checkpoint: size ${savedSize + 2} does not extend the saved size ${savedSize}`));
  });

  it('a rewrite that keeps the old checkpoints: the gateway still serves the old signed root, and the events no longer hash to it', async () => {
    const { saved, newcomer } = await afterOfflineRewrite((db) => rewriteLog(db, swapRecipient, { keepCheckpoints: true }));
    expect(newcomer.ok).toBe(false);
    expect(newcomer.failure).toMatch(/^root: the events do not hash to the signed root/);
    expect(saved.failure).toMatch(/^root: /);
  });

  it('…and once such a log grows, the gateway refuses to sign a checkpoint that forks from its last one', async () => {
    const { saved } = await afterOfflineRewrite((db) => rewriteLog(db, swapRecipient, { keepCheckpoints: true }), 1);
    expect(saved.ok).toBe(false);
    expect(saved.failure).toMatch(/^fetch: /);
  });
});

describe('direct edits of the stored rows are detected', () => {
  // Edited under the running gateway, each edit undone after. SQLite: a copy, through a second connection
  // (WAL) with the triggers dropped. PostgreSQL: the base database itself (the last case, which grows the
  // log, runs last), through the gateway's pool with the append-only triggers disabled.
  let dir: string;
  let gw: Awaited<ReturnType<typeof startTestGateway>>;
  let s: Sessions;
  let file: Database.Database | undefined;
  let db: TestSql;
  let size: number;

  beforeAll(async () => {
    dir = engine === 'sqlite' ? copyOfBase() : baseDir;
    gw = await startTestGateway(ex, { dataDir: dir });
    s = await openSessions(ex, gw);
    if (engine === 'sqlite') {
      file = new Database(join(dir, 'gateway.db'));
      dropAppendOnlyTriggers(file);
      db = connectionSql(file);
    } else {
      db = gw.sql;
      for (const table of ['audit_events', 'merkle_nodes', 'checkpoints']) await db.run(`ALTER TABLE ${table} DISABLE TRIGGER ${table}_append_only`);
    }
    size = Number((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM audit_events'))!.n);
    expect(size).toBe(savedSize);
  }, 30_000);

  afterAll(async () => {
    file?.close();
    s?.closeAll();
    await gw?.stop();
  });

  const verify = (sample?: number) =>
    verifyLog(s.regulator, { statePath: join(dir, 'officer.json'), ...(sample ? { full: false, sample } : {}) });

  async function withRow<T>(table: string, where: string, args: unknown[], column: string, value: unknown, fn: () => Promise<T>): Promise<T> {
    const original = (await db.get<{ v: unknown }>(`SELECT ${column} AS v FROM ${table} WHERE ${where}`, ...args))!.v;
    expect(await db.run(`UPDATE ${table} SET ${column} = ? WHERE ${where}`, value, ...args)).toBe(1);
    try {
      return await fn();
    } finally {
      await db.run(`UPDATE ${table} SET ${column} = ? WHERE ${where}`, original, ...args);
    }
  }

  const events = async () =>
    (await db.all<{ seq: number; event_json: string }>('SELECT seq, event_json FROM audit_events ORDER BY seq')).map((r) => ({ seq: Number(r.seq), event_json: r.event_json }));
  const nodes = async () =>
    (await db.all<{ level: number; idx: number }>('SELECT level, idx FROM merkle_nodes ORDER BY level, idx')).map((r) => ({ level: Number(r.level), idx: Number(r.idx) }));

  it('the untouched copy verifies', async () => {
    expect((await verify()).ok).toBe(true);
  });

  it('any event row’s content: the full check names that event', async () => {
    const rows = await events();
    for (const row of rows) {
      const edited = row.event_json.replace(/"at":"(\d)/, (_m, d: string) => `"at":"${d === '1' ? '2' : '1'}`);
      expect(edited).not.toBe(row.event_json);
      const report = await withRow('audit_events', 'seq = ?', [row.seq], 'event_json', edited, () => verify());
      expect(report.ok, `event ${row.seq}`).toBe(false);
      expect(report.firstBreak, `event ${row.seq}`).toBe(row.seq);
      expect(report.failure).toMatch(new RegExp(`^event chain: the hash chain breaks at event ${row.seq}`));
    }
  });

  it('a byte of an event’s prev field: the full check names that event, not the one before (issue 14.9)', async () => {
    const rows = (await events()).filter((r) => r.seq > 0);
    for (const row of rows) {
      const edited = row.event_json.replace(/"prev":"(.)/, (_m, c: string) => `"prev":"${c === 'A' ? 'B' : 'A'}`);
      expect(edited).not.toBe(row.event_json);
      const report = await withRow('audit_events', 'seq = ?', [row.seq], 'event_json', edited, () => verify());
      expect(report.ok, `event ${row.seq}`).toBe(false);
      expect(report.firstBreak, `event ${row.seq}`).toBe(row.seq);
      expect(report.failure).toMatch(new RegExp(`^event chain: the hash chain breaks at event ${row.seq}: its prev field`));
    }
  });

  it('any event row’s content with its stored leaf hash recomputed: the chain breaks there, or the root for the last', async () => {
    const { leafHash } = await import('../../keys/transparency/index.js');
    const rows = await events();
    for (const row of rows) {
      const edited = row.event_json.replace('"outcome":"ok"', '"outcome":"refused"');
      expect(edited).not.toBe(row.event_json);
      const report = await withRow('audit_events', 'seq = ?', [row.seq], 'leaf_hash', leafHash(Buffer.from(edited)), () =>
        withRow('audit_events', 'seq = ?', [row.seq], 'event_json', edited, () => verify()),
      );
      expect(report.ok, `event ${row.seq}`).toBe(false);
      if (row.seq < size - 1) expect(report.firstBreak, `event ${row.seq}`).toBe(row.seq);
      else expect(report.failure).toMatch(/^root: /);
    }
  });

  it('any event’s stored leaf hash', async () => {
    for (let seq = 0; seq < size; seq++) {
      const report = await withRow('audit_events', 'seq = ?', [seq], 'leaf_hash', Buffer.alloc(32, 0xab), () => verify());
      expect(report.firstBreak, `event ${seq}`).toBe(seq);
      expect(report.failure).toMatch(/stored leaf hash does not match/);
    }
  });

  it('an event row renumbered', async () => {
    expect(await db.run('UPDATE audit_events SET seq = ? WHERE seq = 3', size + 100)).toBe(1);
    const report = await verify().finally(() => db.run('UPDATE audit_events SET seq = 3 WHERE seq = ?', size + 100));
    if (engine === 'sqlite') expect(report.failure).toMatch(/^event chain: event 3 is missing/);
    else {
      // PostgreSQL's leader integrates the sequenced events into the tree before a checkpoint: the row past
      // the tree's size is a gap it refuses to integrate, so no checkpoint is served at all.
      expect(report.failure).toMatch(/^fetch: /);
      expect(gw.logs.join('')).toMatch(/"method":"GetCheckpoint"[^\n]*"error":"TreeStoreCorrupt"/);
    }
    expect((await verify()).ok).toBe(true);
  });

  it('any stored subtree hash: an inclusion check of every event fails', async () => {
    const stored = await nodes();
    expect(stored.length).toBeGreaterThan(size);
    for (const { level, idx } of stored) {
      const report = await withRow('merkle_nodes', 'level = ? AND idx = ?', [level, idx], 'hash', Buffer.alloc(32, 0xcd), () => verify(size));
      expect(report.ok, `node ${level}/${idx}`).toBe(false);
      expect(report.failure).toMatch(/^inclusion: event \d+ is not included under the signed root/);
    }
  });

  it('any stored subtree hash, or one deleted: the full check names the node (issue 14.9)', async () => {
    const stored = await nodes();
    const covering = (level: number, idx: number) =>
      level === 0 ? `covering event ${idx}` : `covering events ${idx * 2 ** level}–${(idx + 1) * 2 ** level - 1}`;
    for (const { level, idx } of stored) {
      const report = await withRow('merkle_nodes', 'level = ? AND idx = ?', [level, idx], 'hash', Buffer.alloc(32, 0xcd), () => verify());
      expect(report.failure, `node ${level}/${idx}`).toBe(`tree nodes: stored tree node (level ${level}, index ${idx}) ${covering(level, idx)} does not match the events`);
    }
    const { level, idx } = stored[stored.length - 1]!;
    const { hash } = (await db.get<{ hash: Buffer }>('SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?', level, idx))!;
    expect(await db.run('DELETE FROM merkle_nodes WHERE level = ? AND idx = ?', level, idx)).toBe(1);
    const report = await verify().finally(() => db.run('INSERT INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)', level, idx, hash));
    expect(report.failure).toBe(`tree nodes: stored tree node (level ${level}, index ${idx}) ${covering(level, idx)} is missing`);
    expect((await verify()).ok).toBe(true);
  });

  it('a stored checkpoint’s note', async () => {
    const latest = (await db.get<{ tree_size: number; note: string }>('SELECT tree_size, note FROM checkpoints ORDER BY tree_size DESC LIMIT 1'))!;
    const forged = latest.note.replace(/\n([A-Za-z0-9+/]{43}=)\n/, (_m, root: string) => `\n${root[0] === 'A' ? 'B' : 'A'}${root.slice(1)}\n`);
    const report = await withRow('checkpoints', 'tree_size = ?', [latest.tree_size], 'note', forged, () => verify());
    expect(report.failure).toMatch(/^checkpoint signature: /);
  });

  it('the export notices an altered event too, and says where', async () => {
    const row = (await db.get<{ event_json: string }>('SELECT event_json FROM audit_events WHERE seq = 5'))!;
    const out = new Writable({ write: (_c, _e, done) => done() });
    const report = await withRow('audit_events', 'seq = 5', [], 'event_json', row.event_json.replace('"v":1', '"v":2'), () =>
      exportLog(s.regulator, { format: 'fhir', out }),
    );
    expect(report.ok).toBe(false);
    expect(report.failure).toMatch(/^event chain: the hash chain breaks at event 5/);
  });
  // Last: it grows the log.
  it('a stored subtree hash edited, then the log grows: the gateway refuses to sign, the officer is told', async () => {
    // The largest stored subtree: every later root is built on it. (A node no root reads is caught by
    // the inclusion checks above instead.)
    const level = Number((await db.get<{ level: number }>('SELECT MAX(level) AS level FROM merkle_nodes'))!.level);
    const report = await withRow('merkle_nodes', 'level = ? AND idx = 0', [level], 'hash', Buffer.alloc(32, 0xee), async () => {
      await grow(s, 1);
      const refused = await verify();
      // The background checkpointer (≤ 1/s) meets the same refusal: logged, the process keeps running.
      await waitFor(() => /audit checkpoint refused/.test(gw.logs.join('')), 30_000);
      return refused;
    });
    expect(report.ok).toBe(false);
    expect(report.failure).toMatch(/^fetch: /);
    expect(gw.logs.join('')).toMatch(/audit checkpoint refused/);
  });

});
