/**
 * Failover (issue 12 item 4): two real `hdx gateway serve --postgres` processes on one throwaway
 * PostgreSQL; the adapters (in this process) are given both addresses and use A, which also leads the log.
 * Under a stream of submissions A is SIGKILLed: the submissions go on through B (those in flight retried
 * under their idempotency keys), the pullers and decision streams follow again on B, B takes the leader
 * lease and signs; no acknowledged submission is lost or doubled, every decision reaches the hospital once,
 * and the officer's full verification passes, consistent with the checkpoint it saved before the kill.
 */
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLog } from '../../compliance/verify.js';
import { openComplianceSession } from '../../compliance/session.js';
import { followDecisions, type DecisionEvent } from '../../hospital-adapter/decisions.js';
import { openHospitalSession } from '../../hospital-adapter/session.js';
import { pullAndDecide } from '../../insurer-adapter/pull-and-decide.js';
import { adjudicate } from '../../insurer-adapter/rules/example-rules.js';
import { openInsurerSession } from '../../insurer-adapter/session.js';
import { startHdx, type HdxProcess } from '../support/cli.js';
import { createTestExchange, waitFor, type TestExchange } from '../support/harness.js';
import { postgresAvailable, testDatabase, type TestDatabase } from '../support/postgres.js';
import { consentAndSubmit, recordMaker } from '../settlement/support.js';

const record = recordMaker(20261205);
const RECORDS = 16;
const KILL_AFTER = 6;

describe.runIf(postgresAvailable())('a replica and the leader SIGKILLed under load', () => {
  let ex: TestExchange;
  let db: TestDatabase;
  let sql: pg.Client;
  const processes: HdxProcess[] = [];

  beforeAll(async () => {
    ex = await createTestExchange();
    db = await testDatabase();
    sql = new pg.Client(db.config);
    await sql.connect();
  });
  afterAll(async () => {
    for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(processes.map((p) => p.exited));
    await sql?.end();
    await db?.drop();
    ex?.cleanup();
  });

  async function replica(name: string): Promise<{ process: HdxProcess; port: number }> {
    const args = ['gateway', 'serve', '--data', ex.summary.gateway.dir, '--db-dir', join(ex.root, name), '--postgres', db.url, '--listen', '127.0.0.1:0', '--seal-workers', '1'];
    const process = startHdx(args);
    processes.push(process);
    const port = Number((await process.waitFor(/listening on port (\d+)/))[1]);
    return { process, port };
  }
  const one = async (text: string, values: unknown[] = []) => (await sql.query<{ n: number }>(text, values)).rows[0]!.n;

  it('loses and doubles nothing, follows on B, and the log verifies consistent with the checkpoint saved before', async () => {
    const a = await replica('a'); // first: it takes the leader lease
    const b = await replica('b');
    const both = `127.0.0.1:${a.port},127.0.0.1:${b.port}`;
    const [nanshan, taikang] = await Promise.all([
      openHospitalSession(ex.partyDir('nanshan-people'), both),
      openInsurerSession(ex.partyDir('taikang-online'), both),
    ]);
    const officer = openComplianceSession(ex.partyDir('szdex'), { address: both });
    const abort = new AbortController();
    const seen: DecisionEvent[] = [];
    const following = followDecisions(nanshan, { outDir: join(ex.root, 'his'), follow: true, signal: abort.signal, onDecision: (e) => void seen.push(e) });
    const deciding = pullAndDecide(taikang, { outDir: join(ex.root, 'inbox'), follow: true, rules: adjudicate, signal: abort.signal });
    try {
      const acknowledged: string[] = [];
      const submitOne = async () => acknowledged.push((await consentAndSubmit(nanshan, record('nanshan-people'), 'taikang-online')).submissionId);
      for (let i = 0; i < KILL_AFTER; i++) await submitOne();
      await waitFor(() => seen.length === KILL_AFTER, 30_000);
      // The officer's checkpoint before the kill, as A signed it.
      const statePath = join(ex.root, 'officer', 'state.json');
      const events = await one('SELECT next_seq::int AS n FROM audit_head');
      let signed = 0;
      await waitFor(() => (void one('SELECT coalesce(max(tree_size), 0)::int AS n FROM checkpoints').then((n) => (signed = n)), signed >= events), 20_000);
      const before = await verifyLog(officer, { statePath, full: true });
      expect(before.failure).toBeUndefined();

      // Submissions in flight while A dies (no wait on the kill: some are mid-call).
      const rest = Array.from({ length: RECORDS - KILL_AFTER }, () => submitOne());
      const killedAt = performance.now();
      a.process.child.kill('SIGKILL');
      expect(acknowledged).toHaveLength(KILL_AFTER); // the rest were in flight or not yet sent
      await Promise.all(rest);
      const allAcknowledged = performance.now() - killedAt;
      expect((await a.process.exited).signal).toBe('SIGKILL');

      expect(new Set(acknowledged).size).toBe(RECORDS);
      await waitFor(() => seen.length >= RECORDS, 60_000);
      const decided = seen.map((e) => (e.ok ? e.decision.submissionId : `refused:${e.transferId}`));
      expect([...decided].sort()).toEqual([...acknowledged].sort()); // each once, none refused
      expect(await one('SELECT count(*)::int AS n FROM submissions')).toBe(RECORDS);
      expect(await one('SELECT count(*)::int AS n FROM transfers')).toBe(RECORDS);
      expect(await one("SELECT count(*)::int AS n FROM transfers WHERE state <> 'decided'")).toBe(0);

      // B leads now: it integrates and signs what both wrote.
      const total = await one('SELECT next_seq::int AS n FROM audit_head');
      await waitFor(() => (void one('SELECT coalesce(max(tree_size), 0)::int AS n FROM checkpoints').then((n) => (signed = n)), signed >= total), 20_000);
      const after = await verifyLog(officer, { statePath, full: true });
      expect(after.failure).toBeUndefined();
      expect(after.ok).toBe(true);
      expect(after.treeSize).toBeGreaterThanOrEqual(total);
      expect(after.proved.join('\n')).toMatch(/consistent/i);
      expect(total).toBeGreaterThan(events); // signed by B: A was dead
      // For the note (issue 12 "Done means"): not asserted, wall-clock figures vary with the machine.
      console.info(
        `failover: ${RECORDS} records, ${RECORDS - KILL_AFTER} in flight or after the SIGKILL of A (leader), all acknowledged ${Math.round(allAcknowledged)} ms after it; ` +
          `${seen.length} decisions received once each; log ${events} -> ${total} events, checkpoint at ${after.treeSize} verified and consistent with the officer's saved ${before.treeSize}`,
      );
    } finally {
      abort.abort();
      await Promise.allSettled([following, deciding]);
      nanshan.close();
      taikang.close();
      officer.close();
    }
    b.process.child.kill('SIGTERM');
    expect((await b.process.exited).code).toBe(0);
  }, 180_000);
});
