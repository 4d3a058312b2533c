/**
 * Shared by the console tests: a real exchange with traffic whose every time the test controls (the
 * gateway runs on a clock the test moves), and real Chromium (Debian's package, through playwright-core).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { launchChromium as launch, type Browser } from '../../compliance/console/chromium.js';
import { revokeConsent } from '../../hospital-adapter/consent.js';
import { submitBundle } from '../../hospital-adapter/submit.js';
import { signDraft, submitSignedDecision, type DecisionDraft } from '../../insurer-adapter/adjudicate.js';
import { pullTransfers } from '../../insurer-adapter/pull.js';
import type { Received } from '../../insurer-adapter/receive.js';
import type { SubmitRecordResponse } from '../../proto/gen/hdx/v1/records.js';
import { idem, type Sessions, type TestExchange } from '../support/harness.js';
import { consentAndSubmit, recordMaker, type InsurerId } from '../settlement/support.js';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;

/** A clock the gateway and the console share; the test moves it. */
export function testClock(start = Date.now()) {
  let now = start;
  return { now: () => now, at: (ms: number) => void (now = start + ms), start };
}

const DRAFT: DecisionDraft = {
  outcome: 'approved',
  amounts: { totalCharges: '100.00', socialInsurancePaid: '60.00', patientPaid: '40.00', payable: '40.00', patientRemainder: '0.00' },
  explanation: '测试',
};

export interface ConsoleTraffic {
  /** A patient whose data went to taikang-online only, and one whose data went nowhere (denied). */
  receivedPatient: string;
  deniedPatient: string;
  overdueTransfer: string;
  decidedTransfer: string;
  consentId: string;
}

/**
 * Four taikang direct-settlement transfers (decided after 10 s, 20 s, 70 s — past its 60 s window — one
 * never: overdue), one pingan decided after 5 s, one submission denied for want of consent, and one
 * transfer withheld because its consent was revoked before delivery. Ends at +10 min.
 */
export async function populateConsoleTraffic(ex: TestExchange, s: Sessions, clock: ReturnType<typeof testClock>): Promise<ConsoleTraffic> {
  const record = recordMaker(1313);
  const insurers = { 'taikang-online': s.taikang, 'pingan-health': s.pingan } as const;
  const inbox = (id: InsurerId) => join(ex.root, 'inbox', id);
  const deliver = async (ms: number, id: InsurerId) => {
    clock.at(ms);
    const outcomes = await pullTransfers(insurers[id], { outDir: inbox(id) });
    return new Map(outcomes.flatMap((o) => (o.ok ? [[o.transferId, o.received] as const] : [])));
  };
  const decide = async (ms: number, submitted: SubmitRecordResponse, received: Map<string, Received>) => {
    const t = submitted.transfers[0]!;
    clock.at(ms);
    const d = await signDraft(insurers[t.insurerId as InsurerId], { transferId: t.transferId, submissionId: submitted.submissionId, envelope: received.get(t.transferId)!.envelope }, DRAFT);
    await submitSignedDecision(insurers[t.insurerId as InsurerId], d.decisionId, d.jws);
  };

  clock.at(0);
  const first = record('nanshan-people');
  const a = await consentAndSubmit(s.nanshan, first, 'taikang-online');
  const b = await consentAndSubmit(s.nanshan, record('nanshan-people'), 'taikang-online');
  const c = await consentAndSubmit(s.nanshan, record('nanshan-people'), 'taikang-online');
  clock.at(5 * SECOND);
  const late = await consentAndSubmit(s.nanshan, record('nanshan-people'), 'taikang-online');
  const morning = await deliver(6 * SECOND, 'taikang-online');
  await decide(10 * SECOND, a, morning);
  await decide(20 * SECOND, b, morning);
  await decide(70 * SECOND, c, morning);

  // Denied: no consent for this patient.
  clock.at(2 * MINUTE);
  const denied = record('nanshan-people');
  await submitBundle(s.nanshan, Buffer.from(JSON.stringify(denied.bundle))).catch(() => undefined);

  // Withheld: the consent is revoked before pingan pulls.
  clock.at(3 * MINUTE);
  const withheld = await consentAndSubmit(s.nanshan, record('nanshan-people'), 'pingan-health');
  await revokeConsent(s.nanshan, { idempotencyKey: idem('revoke'), consentId: withheld.transfers[0]!.consentId });

  clock.at(4 * MINUTE);
  const p = await consentAndSubmit(s.nanshan, record('nanshan-people'), 'pingan-health');
  await decide(4 * MINUTE + 5 * SECOND, p, await deliver(4 * MINUTE + SECOND, 'pingan-health'));

  clock.at(10 * MINUTE);
  return {
    receivedPatient: first.patient.nationalId,
    deniedPatient: denied.patient.nationalId,
    overdueTransfer: late.transfers[0]!.transferId,
    decidedTransfer: a.transfers[0]!.transferId,
    consentId: a.transfers[0]!.consentId,
  };
}

export const CHROMIUM = process.env.HDX_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'console');

/**
 * Whether the browser tests can run. On CI a missing Chromium is a failure (`.ci/run` installs it), not
 * a reason to skip; on a developer's machine without it they skip, saying why.
 */
export function browserAvailable(): boolean {
  const missing = [
    ...(existsSync(CHROMIUM) ? [] : [`Chromium at ${CHROMIUM}`]),
    ...(onPath('pdftotext') ? [] : ['pdftotext (poppler-utils)']),
  ];
  if (missing.length === 0) return true;
  if (process.env.CI === 'true') throw new Error(`CI: no ${missing.join(', no ')} — .ci/run installs Debian's chromium and poppler-utils`);
  console.warn(`console browser tests skipped: no ${missing.join(', no ')} (apt-get install chromium poppler-utils)`);
  return false;
}

const onPath = (command: string) => (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, command)));

export async function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return launch(CHROMIUM);
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One plain HTTP request to the console on 127.0.0.1:`port` (Host set to match unless overridden). */
export function httpCall(port: number, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { Host: `127.0.0.1:${port}`, ...options.headers } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export const csrfOf = (page: string) => /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
