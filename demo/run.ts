/**
 * `npm run demo`: the exchange's main job end to end on the embedded default (SQLite, generated dev
 * keys), as each party would run it. Creates ./.hdx-demo afresh, starts the gateway with mutual TLS,
 * records consents at two hospitals for two insurers, submits a batch of discharge records (some with
 * no consent), revokes one consent before delivery, lets each insurer pull, verify and decrypt, checks
 * that no identifier reached an insurer, lets each insurer adjudicate with the example rules and send
 * its signed decision back to the discharge desk, verifies the audit log as the regulator would, prints a
 * summary with each stay's settlement and the submit-to-decision times, stops the gateway and exits 0
 * (non-zero if any check fails).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { openComplianceSession } from '../compliance/session.js';
import { verifyLog } from '../compliance/verify.js';
import { startGateway } from '../gateway/server.js';
import { ADJUDICATION_CATEGORIES, grantConsent, revokeConsent } from '../hospital-adapter/consent.js';
import { openHospitalSession, type HospitalSession } from '../hospital-adapter/session.js';
import { submitFiles } from '../hospital-adapter/submit.js';
import { followDecisions, type DecisionEvent } from '../hospital-adapter/decisions.js';
import { pullAndDecide } from '../insurer-adapter/pull-and-decide.js';
import { createRules } from '../insurer-adapter/rules/example-rules.js';
import { openInsurerSession } from '../insurer-adapter/session.js';
import { initExchange } from '../keys/exchange/init.js';
import { Purpose } from '../proto/gen/hdx/v1/common.js';
import { createGenerator, identifiersIn, type SyntheticRecord } from '../synthetic/index.js';

const ROOT = resolve(process.env.HDX_DEMO_DIR ?? '.hdx-demo');
const RECORDS_PER_HOSPITAL = Number(process.env.HDX_DEMO_RECORDS ?? 60);
const HOSPITALS = ['nanshan-people', 'szu-general'] as const;
const INSURERS = ['taikang-online', 'pingan-health'] as const;
const INSURER_NAMES: Record<string, string> = { 'taikang-online': '泰康在线', 'pingan-health': '平安健康' };
const DAY = 86_400_000;

const say = (line = '') => process.stdout.write(`${line}\n`);
const step = (title: string) => say(`\n▸ ${title}`);

async function main(): Promise<number> {
  const started = performance.now();
  rmSync(ROOT, { recursive: true, force: true });
  mkdirSync(ROOT, { recursive: true });
  say(`hdx demo — working folder ${ROOT}`);

  step('keys: a development exchange (CA, mTLS certificates, JOSE keys, party registry)');
  const exchange = await initExchange(join(ROOT, 'exchange'));
  for (const p of exchange.parties) say(`  ${p.role.padEnd(9)} ${p.id.padEnd(16)} ${p.uri}`);

  step('gateway: serving over gRPC with mutual TLS on an embedded SQLite database');
  const gateway = await startGateway({
    gatewayDir: exchange.gateway.dir,
    listen: '127.0.0.1:0',
    logger: pino({ level: 'info' }, pino.destination({ dest: join(ROOT, 'gateway.log'), sync: true })),
  });
  const address = `localhost:${gateway.port}`;
  say(`  listening on ${address}; log in ${join(ROOT, 'gateway.log')}`);
  const partyDir = (id: string) => join(exchange.dir, 'parties', id);

  try {
    const hospitals = new Map<string, HospitalSession>();
    for (const id of HOSPITALS) hospitals.set(id, await openHospitalSession(partyDir(id), address));

    step(`hospitals: ${RECORDS_PER_HOSPITAL} discharge records each, consents captured at the deposit desk`);
    const gen = createGenerator(20261121);
    const plan: Array<{ hospital: string; record: SyntheticRecord; insurers: string[]; file: string }> = [];
    for (const hospital of HOSPITALS) {
      const outbox = join(ROOT, 'hospitals', hospital, 'outbox');
      mkdirSync(outbox, { recursive: true });
      for (let i = 0; i < RECORDS_PER_HOSPITAL; i++) {
        const record = gen.dischargeRecord({
          hospitalId: hospital,
          withNote: i % 4 === 0,
          dischargeDate: new Date(Date.now() - (i % 5) * DAY),
        });
        // 1 in 6 patients gave no consent; 1 in 5 named both insurers; the rest one of them.
        const insurers = i % 6 === 5 ? [] : i % 5 === 0 ? [...INSURERS] : [INSURERS[i % 2]!];
        const file = join(outbox, `${String(i).padStart(4, '0')}.json`);
        writeFileSync(file, JSON.stringify(record.bundle));
        plan.push({ hospital, record, insurers, file });
      }
    }
    const consentIds: string[] = [];
    for (const item of plan) {
      for (const insurerId of item.insurers) {
        const response = await grantConsent(hospitals.get(item.hospital)!, {
          idempotencyKey: `demo-grant-${consentIds.length}`,
          patientNationalId: item.record.patient.nationalId,
          terms: {
            insurerId,
            policyNumber: `POL-${insurerId.slice(0, 2).toUpperCase()}-${String(consentIds.length).padStart(6, '0')}`,
            purpose: Purpose.PURPOSE_DIRECT_SETTLEMENT,
            categories: [...ADJUDICATION_CATEGORIES],
            hospitalIds: [item.hospital],
            anyHospital: false,
            validFrom: new Date(Date.now() - 30 * DAY),
            validUntil: new Date(Date.now() + 335 * DAY),
            capture: {
              channel: 'deposit-desk',
              capturedAt: new Date(Date.now() - 7 * DAY),
              noticeVersion: 'szdex-2026.1',
              formDigest: `sha256:${Buffer.alloc(32, consentIds.length % 256).toString('base64url')}`,
            },
          },
        });
        consentIds.push(response.consent!.consentId);
      }
    }
    say(`  ${consentIds.length} consents recorded (each answered with a signed receipt, verified)`);

    step('hospitals: submit signed records (hdx hospital submit)');
    const submitStarted = performance.now();
    const outcomes = (
      await Promise.all(
        HOSPITALS.map((hospital) =>
          submitFiles(hospitals.get(hospital)!, plan.filter((p) => p.hospital === hospital).map((p) => p.file), { concurrency: 16 }),
        ),
      )
    ).flat();
    const submitSeconds = (performance.now() - submitStarted) / 1000;
    const accepted = outcomes.filter((o) => o.ok);
    const denied = outcomes.filter((o) => !o.ok && o.status === 'FAILED_PRECONDITION');
    const failed = outcomes.filter((o) => !o.ok && o.status !== 'FAILED_PRECONDITION');
    const transfers = accepted.flatMap((o) => (o.ok ? o.response.transfers : []));
    say(`  ${accepted.length} accepted → ${transfers.length} sealed transfers; ${denied.length} refused for want of consent`);
    say(`  ${(outcomes.length / submitSeconds).toFixed(0)} records/s through validation, consent, de-identification, JWE and JWS`);

    step('a patient revokes a consent before the insurer has pulled');
    const victim = transfers[0]!;
    const revoked = await revokeConsent(hospitals.get(HOSPITALS[0])!, {
      idempotencyKey: 'demo-revoke-1',
      consentId: victim.consentId,
    });
    say(`  consent ${victim.consentId} revoked: ${revoked.withheldTransfers} undelivered transfer withheld`);

    step('insurers: pull, verify the gateway’s signature, decrypt, acknowledge, adjudicate, send a signed decision');
    const delivered = new Map<string, number>();
    const decidedBy = new Map<string, number>();
    const refusedAtInsurer: string[] = [];
    await Promise.all(
      INSURERS.map(async (insurerId) => {
        const session = await openInsurerSession(partyDir(insurerId), address);
        try {
          const { pulled, decided } = await pullAndDecide(session, {
            outDir: join(ROOT, 'insurers', insurerId, 'inbox'),
            rules: createRules({ insurerName: INSURER_NAMES[insurerId]! }),
          });
          delivered.set(insurerId, pulled.filter((o) => o.ok).length);
          decidedBy.set(insurerId, decided.filter((o) => o.ok).length);
          refusedAtInsurer.push(...pulled.filter((o) => !o.ok).map((o) => o.transferId));
        } finally {
          session.close();
        }
      }),
    );
    for (const insurerId of INSURERS) {
      say(`  ${insurerId.padEnd(16)} received ${delivered.get(insurerId)} de-identified records, decided ${decidedBy.get(insurerId)}`);
    }

    step('discharge desks: follow decisions (hdx hospital decisions), verify each insurer’s signature, settle');
    const decisions: Array<Extract<DecisionEvent, { ok: true }>> = [];
    let decisionsRefused = 0;
    for (const [id, session] of hospitals) {
      await followDecisions(session, {
        outDir: join(ROOT, 'hospitals', id, 'decisions'),
        onDecision: (event) => {
          if (event.ok) decisions.push(event);
          else decisionsRefused += 1;
        },
      });
    }
    const acceptedAt = new Map(
      accepted.flatMap((o) => (o.ok ? [[o.response.submissionId, o.response.acceptedAt?.getTime() ?? 0] as const] : [])),
    );
    const waits = decisions
      .map((d) => Date.parse(d.decision.recordedAt) - (acceptedAt.get(d.decision.submissionId) ?? Number.NaN))
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    const pct = (q: number) => waits[Math.min(waits.length - 1, Math.floor(q * waits.length))] ?? 0;
    const byOutcome = new Map<string, number>();
    for (const d of decisions) byOutcome.set(d.decision.claims.hdx.outcome, (byOutcome.get(d.decision.claims.hdx.outcome) ?? 0) + 1);
    say(`  ${decisions.length} decisions: ${[...byOutcome].map(([k, v]) => `${v} ${k}`).join(', ')}`);
    say(`  submit → decision: median ${(pct(0.5) / 1000).toFixed(2)} s, p95 ${(pct(0.95) / 1000).toFixed(2)} s (today's claims: 3–7 working days)`);
    say('  (this demo runs in phases, so these include waiting for the whole batch; `npm run bench` measures live latency)');
    say('  a few stays as the discharge desk sees them (CNY):');
    say('    stay                                     total      医保     insurer   patient owes');
    const seen = new Set<string>();
    for (const d of decisions) {
      const st = d.settlement;
      if (seen.has(st.submissionId) || seen.size >= 5) continue;
      seen.add(st.submissionId);
      say(`    ${st.submissionId.padEnd(36)} ${st.totalCharges.padStart(10)} ${st.socialInsurancePaid.padStart(9)} ${st.insurerPaid.padStart(10)} ${st.patientRemainder.padStart(12)}${st.final ? '' : '  (more information requested)'}`);
    }

    step('privacy check: search every file the insurers received for the patients’ identifiers');
    const received = INSURERS.flatMap((id) => {
      const inbox = join(ROOT, 'insurers', id, 'inbox');
      return readdirSync(inbox).map((f) => readFileSync(join(inbox, f), 'utf8'));
    }).join('\n');
    const leaked = identifiersIn(received, plan.flatMap((p) => p.record.identifiers));
    say(`  ${plan.flatMap((p) => p.record.identifiers).length} identifiers searched for, ${leaked.length} found`);

    step('regulator: verify the audit log (signed checkpoint, hash chain, Merkle root)');
    const officer = openComplianceSession(partyDir('szdex'), { address });
    let auditOk = false;
    try {
      const report = await verifyLog(officer, { statePath: join(ROOT, 'regulator', 'audit-state.json') });
      for (const line of report.proved) say(`  ✓ ${line}`);
      if (!report.ok) say(`  ✗ ${report.failure}`);
      auditOk = report.ok;
    } finally {
      officer.close();
    }
    for (const session of hospitals.values()) session.close();

    const expectedDelivered = transfers.length - revoked.withheldTransfers;
    const totalDelivered = [...delivered.values()].reduce((a, b) => a + b, 0);
    const totalDecided = [...decidedBy.values()].reduce((a, b) => a + b, 0);
    const checks = {
      'every consented record was delivered': totalDelivered === expectedDelivered && refusedAtInsurer.length === 0,
      'every delivered record was decided and the decision reached its hospital':
        totalDecided === totalDelivered && decisions.length === totalDecided && decisionsRefused === 0,
      'records without consent were refused': denied.length === plan.filter((p) => p.insurers.length === 0).length,
      'no submission failed for another reason': failed.length === 0,
      'no identifier reached an insurer': leaked.length === 0,
      'the audit log verified': auditOk,
    };

    say('\n──────── summary ────────');
    say(`submitted           ${outcomes.length}`);
    say(`denied (no consent) ${denied.length}`);
    for (const [id, n] of delivered) say(`delivered → ${id.padEnd(16)} ${n}`);
    say(`withheld (revoked)  ${revoked.withheldTransfers}`);
    say(`decisions at desks  ${decisions.length} (submit → decision median ${(pct(0.5) / 1000).toFixed(2)} s)`);
    say(`audit log           ${auditOk ? 'verified' : 'FAILED'} (${gateway.gateway.audit.size} events)`);
    say(`elapsed             ${((performance.now() - started) / 1000).toFixed(1)} s`);
    for (const [name, ok] of Object.entries(checks)) say(`${ok ? '✓' : '✗'} ${name}`);
    for (const f of failed) say(`  ${f.file}: ${!f.ok ? f.message : ''}`);
    return Object.values(checks).every(Boolean) ? 0 : 1;
  } finally {
    await gateway.stop();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`demo failed: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
