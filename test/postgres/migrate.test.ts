/**
 * `hdx gateway migrate --to postgres` (issue 12 item 5): an exchange that ran on SQLite — consents,
 * submissions, transfers, decisions, its audit log and checkpoints — is copied into a real throwaway
 * PostgreSQL; a gateway then serves it from PostgreSQL, takes more traffic, and the officer's full
 * verification passes and is consistent with the checkpoint the officer saved before the move.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLog } from '../../compliance/verify.js';
import { BackupRefused } from '../../gateway/backup.js';
import { importSqlite } from '../../gateway/storage/postgres/import-sqlite.js';
import { openPostgresStore } from '../../gateway/storage/postgres/store.js';
import { openSqliteStore } from '../../gateway/storage/sqlite/store.js';
import { pullAndDecide } from '../../insurer-adapter/pull-and-decide.js';
import { adjudicate } from '../../insurer-adapter/rules/example-rules.js';
import { createTestExchange, openSessions, startTestGateway, waitFor, type Sessions, type TestExchange, type TestGateway } from '../support/harness.js';
import { postgresAvailable, testDatabase, type TestDatabase } from '../support/postgres.js';
import { consentAndSubmit, recordMaker } from '../settlement/support.js';

const record = recordMaker(20261203);

describe.runIf(postgresAvailable())('migrating an exchange from SQLite to PostgreSQL', () => {
  let ex: TestExchange;
  let db: TestDatabase;
  let gw: TestGateway | undefined;
  let s: Sessions | undefined;

  beforeAll(async () => {
    ex = await createTestExchange();
    db = await testDatabase();
  });
  afterAll(async () => {
    s?.closeAll();
    await gw?.stop();
    await db?.drop();
    ex?.cleanup();
  });

  /** Some of everything: consents, submissions, transfers, decisions, and the log of it all. */
  async function traffic(sessions: Sessions, n: number) {
    for (let i = 0; i < n; i++) await consentAndSubmit(sessions.nanshan, record('nanshan-people'), 'taikang-online');
    await pullAndDecide(sessions.taikang, { outDir: join(ex.root, 'inbox'), follow: false, rules: adjudicate });
  }

  it('copies every table, verifies the copy’s log before committing, and a gateway on PostgreSQL carries on', async () => {
    gw = await startTestGateway(ex, { store: openSqliteStore });
    s = await openSessions(ex, gw);
    await traffic(s, 3);
    const sqlite = gw.running.gateway.db;
    const events = () => (sqlite.prepare('SELECT count(*) AS n FROM audit_events').get() as { n: number }).n;
    const signed = () => (sqlite.prepare('SELECT max(tree_size) AS n FROM checkpoints').get() as { n: number | null }).n ?? 0;
    await waitFor(() => signed() === events(), 20_000);
    const statePath = join(ex.root, 'officer', 'state.json');
    const before = await verifyLog(s.regulator, { statePath, full: true });
    expect(before.failure).toBeUndefined();
    const decisions = (sqlite.prepare('SELECT count(*) AS n FROM decisions').get() as { n: number }).n;
    expect(decisions).toBe(3);
    const counted = events();
    s.closeAll();
    await gw.stop();
    gw = undefined;

    const result = await importSqlite({ gatewayDir: ex.summary.gateway.dir }, db.url);
    expect(result.events).toBe(counted);
    expect(result.checkpointSize).toBe(counted);
    expect(result.rows).toMatchObject({ submissions: 3, transfers: 3, decisions: 3, audit_events: counted });
    expect(result.rows.consents).toBeGreaterThanOrEqual(3);

    // A second run into the same database is refused: it already holds the exchange.
    await expect(importSqlite({ gatewayDir: ex.summary.gateway.dir }, db.url)).rejects.toThrow(BackupRefused);

    gw = await startTestGateway(ex, { store: (options) => openPostgresStore({ ...options, postgres: { connectionString: db.url } }) });
    s = await openSessions(ex, gw);
    await traffic(s, 1);
    const store = gw.running.gateway;
    // The new events are integrated and signed on PostgreSQL, extending the migrated log.
    let size = 0;
    let latest = 0;
    await waitFor(() => {
      void store.store.reads.audit.size().then((n) => (size = n));
      void store.store.reads.audit.checkpoints.latest().then((c) => (latest = c?.treeSize ?? 0));
      return size > counted && latest === size;
    }, 20_000);
    const after = await verifyLog(s.regulator, { statePath, full: true });
    expect(after.failure).toBeUndefined();
    expect(after.ok).toBe(true);
    expect(after.treeSize).toBe(size);
    expect(after.proved.join('\n')).toMatch(/consistent/i);
    // Decision cursors carry on after SQLite's.
    const cursors = (await store.store.reads.decisions.forHospital('nanshan-people', 0, 10)).map((d) => d.cursor);
    expect(cursors).toHaveLength(4);
    expect(new Set(cursors).size).toBe(4);
    expect(cursors[3]).toBeGreaterThan(cursors[2]!);
  }, 120_000);

  it('a source whose log does not verify is refused, and nothing is written to PostgreSQL', async () => {
    await gw?.stop();
    gw = undefined;
    const file = new Database(join(ex.summary.gateway.dir, 'gateway.db'));
    file.exec('DROP TRIGGER audit_events_no_update');
    file.prepare("UPDATE audit_events SET event_json = replace(event_json, 'nanshan-people', 'szu-general') WHERE seq = 3").run();
    file.close();
    const empty = await testDatabase();
    try {
      await expect(importSqlite({ gatewayDir: ex.summary.gateway.dir }, empty.url)).rejects.toThrow(/audit event 3 does not match its leaf hash/);
      const client = new pg.Client(empty.config);
      await client.connect();
      try {
        expect((await client.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'")).rows[0].n).toBe(0);
      } finally {
        await client.end();
      }
    } finally {
      await empty.drop();
    }
  });
});
