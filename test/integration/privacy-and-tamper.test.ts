/**
 * Privacy is the product: none of the synthetic identifiers reaches the insurer, the gateway's log
 * output or the gateway's database file. And the regulator's tool notices a row altered in that file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLog } from '../../compliance/verify.js';
import { ADJUDICATION_CATEGORIES, grantConsent } from '../../hospital-adapter/consent.js';
import { submitBundle } from '../../hospital-adapter/submit.js';
import { pullTransfers } from '../../insurer-adapter/pull.js';
import { DataCategory } from '../../proto/gen/hdx/v1/common.js';
import { createGenerator, identifiersIn, type SyntheticRecord } from '../../synthetic/index.js';
import { createTestExchange, idem, openSessions, startTestGateway, terms, type Sessions, type TestExchange, type TestGateway } from '../support/harness.js';

let ex: TestExchange;
let gw: TestGateway;
let s: Sessions;
const records: SyntheticRecord[] = [];
const outDir = () => join(ex.root, 'insurer-out');

beforeAll(async () => {
  ex = await createTestExchange();
  gw = await startTestGateway(ex);
  s = await openSessions(ex, gw);
  const gen = createGenerator(7);
  for (let i = 0; i < 30; i++) {
    const r = gen.dischargeRecord({
      hospitalId: 'nanshan-people',
      withNote: true,
      plantAwkwardIdentifiers: true,
      dischargeDate: new Date(Date.now() - 86_400_000),
    });
    records.push(r);
    const withNotes = i % 2 === 0;
    await grantConsent(s.nanshan, {
      idempotencyKey: idem('grant'),
      patientNationalId: r.patient.nationalId,
      terms: terms({
        insurerId: i % 3 === 0 ? 'pingan-health' : 'taikang-online',
        ...(withNotes ? { categories: [...ADJUDICATION_CATEGORIES, DataCategory.DATA_CATEGORY_NOTES] } : {}),
      }),
    });
    await submitBundle(s.nanshan, Buffer.from(JSON.stringify(r.bundle)));
  }
  // A few without consent: denied, and audited without identifiers.
  for (let i = 0; i < 3; i++) {
    const r = gen.dischargeRecord({ hospitalId: 'nanshan-people', plantAwkwardIdentifiers: true, dischargeDate: new Date() });
    records.push(r);
    await submitBundle(s.nanshan, Buffer.from(JSON.stringify(r.bundle))).catch(() => undefined);
  }
  await pullTransfers(s.taikang, { outDir: outDir() });
  await pullTransfers(s.pingan, { outDir: outDir() });
});

afterAll(async () => {
  s?.closeAll();
  await gw?.stop();
  ex?.cleanup();
});

/**
 * Identifiers to look for in machine text. Short all-digit values (6-digit postcodes) are left out of
 * the log and database scans only: they occur by chance inside epoch milliseconds and random ids there.
 * The insurer-output scan uses every identifier.
 */
const distinctive = (id: string) => id.length >= 2 && !/^\d{1,7}$/.test(id);

function leaks(haystack: string, keep: (id: string) => boolean = distinctive): string[] {
  return records.flatMap((r) => r.identifiers).filter((id) => keep(id) && haystack.includes(id));
}

describe('no identifier leaves the hospital', () => {
  it('none appears in what the insurers received', () => {
    const files = readdirSync(outDir());
    expect(files.length).toBeGreaterThanOrEqual(60); // a bundle and a claims file per transfer
    const text = files.map((f) => readFileSync(join(outDir(), f), 'utf8')).join('\n');
    // Every identifier, random tokens masked first (see synthetic/leak-scan.ts).
    expect(identifiersIn(text, records.flatMap((r) => r.identifiers))).toEqual([]);
  });

  it('none appears in the gateway’s log output', () => {
    expect(gw.logs.length).toBeGreaterThan(50);
    expect(leaks(gw.logs.join(''))).toEqual([]);
  });

  it('none appears anywhere in the gateway’s database files', async () => {
    const bytes = await databaseBytes();
    const found = records
      .flatMap((r) => r.identifiers)
      .filter((id) => distinctive(id) && bytes.includes(Buffer.from(id, 'utf8')));
    expect(found).toEqual([]);
    // Nor the policy number, which the gateway keeps only sealed at rest.
    expect(bytes.includes(Buffer.from('PL-2026-000123'))).toBe(false);
  });
});

/** SQLite: the database's files, byte for byte. PostgreSQL: every row of every table, as text. */
async function databaseBytes(): Promise<Buffer> {
  if (gw.running.gateway.store.engine === 'postgres') {
    const tables = await gw.sql.all<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`);
    expect(tables.map((t) => t.name)).toContain('transfer_payloads');
    const rows = await Promise.all(tables.map((t) => gw.sql.all<{ row: string }>(`SELECT t::text AS row FROM "${t.name}" t`)));
    return Buffer.from(rows.flat().map((r) => r.row).join('\n'), 'utf8');
  }
  const dir = ex.summary.gateway.dir;
  const dbFiles = readdirSync(dir).filter((f) => f.startsWith('gateway.db'));
  expect(dbFiles).toContain('gateway.db');
  // SQLite stores text in the database's encoding, UTF-8 here; so search for UTF-8 bytes. (Searching
  // UTF-16 too made the test flaky: a two-character name is 4 bytes in UTF-16, which random hash
  // bytes contain by chance about once in a hundred runs.)
  const db = new Database(join(dir, 'gateway.db'), { readonly: true });
  expect(db.pragma('encoding', { simple: true })).toBe('UTF-8');
  db.close();
  return Buffer.concat(dbFiles.map((f) => readFileSync(join(dir, f))));
}

describe('the regulator notices tampering', () => {
  it('an audit row altered in the database file is detected by `hdx audit verify`', async () => {
    const statePath = join(ex.root, 'officer.json');
    expect((await verifyLog(s.regulator, { statePath })).ok).toBe(true);

    // Someone with database access lifts the append-only guard and edits an event.
    const postgres = gw.running.gateway.store.engine === 'postgres';
    await gw.sql.run(postgres ? 'ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only' : 'DROP TRIGGER audit_events_no_update');
    const row = (await gw.sql.get<{ seq: number; event_json: string }>(
      `SELECT seq, event_json FROM audit_events WHERE action = 'record.deny' ORDER BY seq LIMIT 1`,
    ))!;
    await gw.sql.run('UPDATE audit_events SET event_json = ? WHERE seq = ?', row.event_json.replace('"denied"', '"ok"'), row.seq);

    const report = await verifyLog(s.regulator, { statePath });
    expect(report.ok).toBe(false);
    expect(report.firstBreak).toBe(row.seq);
    expect(report.failure).toMatch(new RegExp(`breaks at event ${row.seq}`));
  });
});
