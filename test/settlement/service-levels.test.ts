/**
 * Service-level figures against timestamps the test controls: the gateway runs on a clock the test moves,
 * so every submit and decision time — and so every median, p95, share and overdue entry — is known.
 */
import { status } from '@grpc/grpc-js';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchServiceLevels, formatServiceLevels } from '../../compliance/service-levels.js';
import { signDraft, submitSignedDecision, type DecisionDraft } from '../../insurer-adapter/adjudicate.js';
import { pullTransfers } from '../../insurer-adapter/pull.js';
import type { Received } from '../../insurer-adapter/receive.js';
import type { InsurerSession } from '../../insurer-adapter/session.js';
import { unaryCall } from '../../proto/connect.js';
import type { SubmitRecordResponse } from '../../proto/gen/hdx/v1/records.js';
import { computeServiceLevels } from '../../gateway/settlement/service-levels.js';
import { median, percentile } from '../../gateway/settlement/windows.js';
import { createTestExchange, openSessions, startTestGateway, type Sessions, type TestExchange, type TestGateway } from '../support/harness.js';
import { consentAndSubmit, expectStatus, recordMaker, type InsurerId } from './support.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const T0 = Date.now();
let now = T0;
const at = (ms: number) => {
  now = T0 + ms;
};

let ex: TestExchange;
let gw: TestGateway;
let s: Sessions;
const record = recordMaker(99);

beforeAll(async () => {
  ex = await createTestExchange();
  gw = await startTestGateway(ex, { clock: () => now });
  s = await openSessions(ex, gw);
});

afterAll(async () => {
  s?.closeAll();
  await gw?.stop();
  ex?.cleanup();
});

const DRAFT: DecisionDraft = {
  outcome: 'approved',
  amounts: { totalCharges: '100.00', socialInsurancePaid: '60.00', patientPaid: '40.00', payable: '40.00', patientRemainder: '0.00' },
  explanation: '测试',
};

const insurers = (): Record<InsurerId, InsurerSession> => ({ 'taikang-online': s.taikang, 'pingan-health': s.pingan });

async function submitAt(
  ms: number,
  insurerId: InsurerId,
  purpose: 'DIRECT_SETTLEMENT' | 'CLAIM' = 'DIRECT_SETTLEMENT',
  encounterClass: 'IMP' | 'AMB' = 'IMP',
): Promise<SubmitRecordResponse> {
  at(ms);
  return consentAndSubmit(s.nanshan, record('nanshan-people', encounterClass), insurerId, purpose);
}

/** Delivers everything ready for the insurer at `ms` (pull and acknowledge); returns what it received. */
async function deliverAt(ms: number, insurerId: InsurerId): Promise<Map<string, Received>> {
  at(ms);
  const outcomes = await pullTransfers(insurers()[insurerId], { outDir: join(ex.root, 'inbox', insurerId) });
  return new Map(outcomes.flatMap((o) => (o.ok ? [[o.transferId, o.received] as const] : [])));
}

/** The insurer decides the submission's transfer at `ms`. */
async function decideAt(ms: number, submitted: SubmitRecordResponse, received: Map<string, Received>, revisionOf?: string): Promise<string> {
  const t = submitted.transfers[0]!;
  const insurer = insurers()[t.insurerId as InsurerId];
  const envelope = received.get(t.transferId)!.envelope;
  at(ms);
  const d = await signDraft(insurer, { transferId: t.transferId, submissionId: submitted.submissionId, envelope }, DRAFT, {
    ...(revisionOf && { revisionOf }),
  });
  await submitSignedDecision(insurer, d.decisionId, d.jws);
  return d.decisionId;
}

describe('service levels', () => {
  it('report median, p95, share within the window and overdue transfers from the transfers’ timers', async () => {
    // taikang, direct settlement (60 s): decided after 10 s, 20 s and 70 s; one never decided.
    const a = await submitAt(0, 'taikang-online');
    const b = await submitAt(0, 'taikang-online');
    const c = await submitAt(0, 'taikang-online');
    const late = await submitAt(5 * SECOND, 'taikang-online');
    const morning = await deliverAt(6 * SECOND, 'taikang-online');
    await decideAt(10 * SECOND, a, morning);
    await decideAt(20 * SECOND, b, morning);
    const cDecision = await decideAt(70 * SECOND, c, morning);
    // A revision does not move c's decision time.
    await decideAt(50 * MINUTE, c, morning, cDecision);
    // taikang, claims: outpatient decided after 2 h (1 day window), inpatient undecided (3 days: not overdue).
    const outpatient = await submitAt(10 * MINUTE, 'taikang-online', 'CLAIM', 'AMB');
    const inpatient = await submitAt(10 * MINUTE, 'taikang-online', 'CLAIM', 'IMP');
    await decideAt(10 * MINUTE + 2 * HOUR, outpatient, await deliverAt(11 * MINUTE, 'taikang-online'));
    // pingan, direct settlement: one decided after 5 s.
    const p = await submitAt(3 * HOUR, 'pingan-health');
    await decideAt(3 * HOUR + 5 * SECOND, p, await deliverAt(3 * HOUR + SECOND, 'pingan-health'));

    at(4 * HOUR);
    const report = await fetchServiceLevels(s.regulator, { since: new Date(T0 - MINUTE), until: new Date(T0 + 4 * HOUR) });
    expect(report.levels).toEqual([
      {
        insurerId: 'pingan-health',
        window: 'direct-settlement',
        windowSeconds: 60,
        submitted: 1,
        decided: 1,
        medianSeconds: 5,
        p95Seconds: 5,
        withinWindowShare: 1,
      },
      {
        insurerId: 'taikang-online',
        window: 'direct-settlement',
        windowSeconds: 60,
        submitted: 4,
        decided: 3,
        medianSeconds: 20,
        p95Seconds: 70,
        withinWindowShare: 2 / 3,
      },
      {
        insurerId: 'taikang-online',
        window: 'outpatient',
        windowSeconds: 86_400,
        submitted: 1,
        decided: 1,
        medianSeconds: 7_200,
        p95Seconds: 7_200,
        withinWindowShare: 1,
      },
      {
        insurerId: 'taikang-online',
        window: 'inpatient',
        windowSeconds: 259_200,
        submitted: 1,
        decided: 0,
        medianSeconds: 0,
        p95Seconds: 0,
        withinWindowShare: 0,
      },
    ]);
    expect(report.overdue).toEqual([
      {
        transferId: late.transfers[0]!.transferId,
        insurerId: 'taikang-online',
        window: 'direct-settlement',
        submittedAt: new Date(T0 + 5 * SECOND),
        ageSeconds: (4 * HOUR - 5 * SECOND) / 1000,
      },
    ]);
    expect(report.overdue.map((o) => o.transferId)).not.toContain(inpatient.transfers[0]!.transferId);

    // The filters: one insurer; a period that leaves the morning out.
    const pingan = await fetchServiceLevels(s.regulator, { insurerId: 'pingan-health' });
    expect(pingan.levels.map((l) => l.insurerId)).toEqual(['pingan-health']);
    const afternoon = await fetchServiceLevels(s.regulator, { since: new Date(T0 + HOUR) });
    expect(afternoon.levels.map((l) => `${l.insurerId}/${l.window}`)).toEqual(['pingan-health/direct-settlement']);
    expect(afternoon.overdue).toEqual([]);

    // The timers behind the figures are on the submission report too.
    const report2 = await unaryCall(s.nanshan.clients.records, s.nanshan.clients.records.getSubmission, { submissionId: c.submissionId });
    expect(report2.transfers[0]).toMatchObject({
      deliveredAt: new Date(T0 + 6 * SECOND),
      acknowledgedAt: new Date(T0 + 6 * SECOND),
      decidedAt: new Date(T0 + 70 * SECOND),
    });

    const text = formatServiceLevels(report);
    expect(text).toContain('taikang-online');
    expect(text).toContain('66.7%');
    expect(text).toContain('1 transfer(s) past their window');
  });

  it('are for regulators only, and the query is audited', async () => {
    await expectStatus(
      unaryCall(s.nanshan.clients.settlement, s.nanshan.clients.settlement.getServiceLevels, { insurerId: '', since: undefined, until: undefined }),
      status.PERMISSION_DENIED,
    );
    await expectStatus(
      unaryCall(s.taikang.clients.settlement, s.taikang.clients.settlement.getServiceLevels, { insurerId: '', since: undefined, until: undefined }),
      status.PERMISSION_DENIED,
    );
    await expectStatus(fetchServiceLevels(s.regulator, { since: new Date(T0), until: new Date(T0 - 1) }), status.INVALID_ARGUMENT);
    await fetchServiceLevels(s.regulator, { insurerId: 'taikang-online' });
    const events = (await gw.running.gateway.store.reads.audit.page({ action: 'audit.query', afterSeq: -1 }, 100_000)).map((r) => JSON.parse(r.event_json));
    expect(events.some((e) => e.details.query === 'service-levels' && e.actor === 'szdex')).toBe(true);
  });
});

describe('service-level statistics', () => {
  it('median and nearest-rank percentiles', () => {
    expect(median([])).toBe(0);
    expect(median([5])).toBe(5);
    expect(median([1, 3])).toBe(2);
    expect(median([1, 2, 9])).toBe(2);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 95)).toBe(95);
    expect(percentile([1, 2, 3], 95)).toBe(3);
    expect(percentile([7], 95)).toBe(7);
  });

  it('leave withheld and statistics transfers out; configurable windows', () => {
    const row = (over: Partial<Parameters<typeof computeServiceLevels>[0][number]>) => ({
      transfer_id: 't',
      insurer_id: 'i',
      purpose: 'DIRECT_SETTLEMENT',
      encounter_class: 'IMP',
      state: 'decided',
      submitted_at: 0,
      delivered_at: 1,
      acknowledged_at: 1,
      decided_at: 30_000,
      ...over,
    });
    const windows = { directSettlement: 10_000, outpatient: 1, inpatient: 1 };
    const out = computeServiceLevels(
      [row({}), row({ transfer_id: 'w', state: 'withheld', decided_at: null }), row({ transfer_id: 's', purpose: 'STATISTICS', decided_at: null })],
      windows,
      100_000,
    );
    expect(out.levels).toHaveLength(1);
    expect(out.levels[0]).toMatchObject({ submitted: 1, decided: 1, withinWindowShare: 0, windowSeconds: 10 });
    expect(out.overdue).toEqual([]);
  });
});
