/**
 * `postgres` in the gateway's options (`hdx gateway serve --postgres <url>`): the gateway keeps its state in
 * that database — a consent granted over mTLS is a row there, gateway.db is never made — and a gateway
 * started again on the database finds it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantConsent } from '../../hospital-adapter/consent.js';
import { openHospitalSession } from '../../hospital-adapter/session.js';
import { recordMaker } from '../settlement/support.js';
import { createTestExchange, idem, startTestGateway, terms, type TestExchange } from '../support/harness.js';
import { postgresAvailable, testDatabase, type TestDatabase } from '../support/postgres.js';

describe.runIf(postgresAvailable())('a gateway served on PostgreSQL', () => {
  let db: TestDatabase;
  let ex: TestExchange;
  beforeAll(async () => {
    db = await testDatabase();
    ex = await createTestExchange();
  });
  afterAll(async () => {
    ex?.cleanup();
    await db?.drop();
  });

  it('keeps its state in the database it was given, across a restart', async () => {
    const record = recordMaker(20261203);
    const start = () => startTestGateway(ex, { store: undefined, postgres: db.url });
    let gw = await start();
    const session = await openHospitalSession(ex.partyDir('nanshan-people'), gw.address);
    let consentId: string;
    try {
      expect(gw.running.gateway.store.engine).toBe('postgres');
      const r = record('nanshan-people');
      const granted = await grantConsent(session, { idempotencyKey: idem('grant'), patientNationalId: r.patient.nationalId, terms: terms({ insurerId: 'taikang-online' }) });
      consentId = granted.consent!.consentId;
    } finally {
      session.close();
      await gw.stop();
    }
    expect(existsSync(join(ex.summary.gateway.dir, 'gateway.db'))).toBe(false);
    const client = new pg.Client(db.config);
    await client.connect();
    try {
      expect((await client.query('SELECT consent_id FROM consents')).rows).toEqual([{ consent_id: consentId }]);
    } finally {
      await client.end();
    }
    gw = await start();
    try {
      expect((await gw.running.gateway.store.reads.consents.get(consentId))?.consent_id).toBe(consentId);
      expect(await gw.running.gateway.store.reads.audit.tree.size()).toBe(await gw.running.gateway.store.reads.audit.size());
    } finally {
      await gw.stop();
    }
  });
});
