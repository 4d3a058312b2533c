/**
 * Pages about one thing: a patient (who received their data), a transfer with its evidence, a consent's
 * history. Things are named in addresses by their position in the log (the seq of the event that created
 * them), never by an identifier.
 */
import { checkEvidence, EVIDENCE_STEPS, fetchEvidence, type EvidenceReport, type EvidenceStep } from '../evidence.js';
import { parseEvidenceFile, type EvidenceFile } from '../evidence-file.js';
import type { LoggedEvent } from '../audit-event.js';
import { compareAnswers, matches, servedAnswer } from '../query.js';
import type { ComplianceSession } from '../session.js';
import { html, type Html } from './html.js';
import { table, type PageContext } from './layout.js';
import type { Model } from './model.js';
import { verifiedCopy } from './verified-log.js';

function eventRows(ctx: PageContext, events: readonly LoggedEvent[]): Html {
  const { w } = ctx;
  return table(
    [w.seq, w.at, w.action, w.actor, w.outcome, w.transfer],
    events.map((e) => [e.seq, e.at, e.action, e.actor, e.outcome, e.transfer ?? '']),
    [0],
    'events',
  );
}

export function patientForm(ctx: PageContext): Html {
  const { w } = ctx;
  return html`<p>${w.patient_help}</p>
<form method="post" action="/patient" autocomplete="off"><input type="hidden" name="csrf" value="${ctx.csrf}">
<label for="patient-id">${w.patient_id}</label><input type="password" id="patient-id" name="patientId" required maxlength="64" autocomplete="off" spellcheck="false">
<button class="primary" type="submit">${w.search}</button></form>`;
}

/** Up to 20 sequence numbers, then how many more. */
const seqList = (seqs: readonly number[]) => (seqs.length <= 20 ? seqs.join(', ') : `${seqs.slice(0, 20).join(', ')} … (+${seqs.length - 20})`);

/**
 * Answers from the verified snapshot, as `hdx audit query --patient-id-file` does (`queryVerified`): the
 * gateway holds the key of the patient hash, so it is asked, and says which hash it searched with; the
 * snapshot's events holding that hash are the answer. The gateway's own list is only compared, and events
 * it left out or returned wrongly are named (its search indexes are not covered by the log's checks).
 */
export async function patientResults(ctx: PageContext, session: ComplianceSession, nationalId: string): Promise<Html> {
  const { w } = ctx;
  const { served, patientRef } = await servedAnswer(session, { patientNationalId: nationalId }, ctx.snapshot.events.length);
  const events = patientRef === undefined ? [] : ctx.snapshot.events.filter((v) => matches(v.event, {}, patientRef));
  const { leftOut, unexpected } = compareAnswers(events, served);
  const receipts = events.filter((v) => v.event.action === 'transfer.create');
  const recipients = [...new Set(receipts.map((v) => v.event.parties[1] ?? ''))].sort();
  return html`${patientForm(ctx)}
<h3>${w.received_by}</h3>
${recipients.length === 0 ? html`<p id="recipients-none">${w.patient_none}</p>` : html`<ul id="recipients">${recipients.map((r) => html`<li>${r}</li>`)}</ul>`}
${leftOut.length > 0 ? html`<p class="bad" id="left-out">⚠ ${w.gateway_left_out} ${seqList(leftOut)}</p>` : ''}
${unexpected.length > 0 ? html`<p class="bad" id="unverified">⚠ ${w.gateway_unexpected} ${seqList(unexpected)}</p>` : ''}
<h3>${w.patient_events} <small class="good">(${w.event_verified})</small></h3>
${eventRows(ctx, events.map((v) => v.event))}`;
}

export function transferList(ctx: PageContext, model: Model): Html {
  const { w } = ctx;
  const stories = [...model.stories.values()].reverse().slice(0, 200);
  return table(
    [w.transfer, w.at, w.hospital, w.insurer, w.status_transfer, w.outcome],
    stories.map((s) => [
      html`<a href="/transfer?seq=${s.seq}">${s.transferId}</a>`,
      new Date(s.createdAt).toISOString(),
      s.hospitalId,
      s.insurerId,
      s.withheldAt !== undefined ? w.withheld : s.acknowledgedAt !== undefined ? w.acknowledged : s.deliveredAt !== undefined ? w.delivered : w.pending,
      s.outcome ?? '',
    ]),
    [],
    'transfers',
  );
}

const HOPS: Array<[EvidenceStep, 'sig_submission' | 'sig_envelope' | 'sig_receipt']> = [
  ['submission signature', 'sig_submission'],
  ['envelope signature', 'sig_envelope'],
  ['receipt signature', 'sig_receipt'],
];

/** Did the check get past `step`? */
const passed = (report: EvidenceReport, step: EvidenceStep) =>
  report.ok || (report.step !== undefined && EVIDENCE_STEPS.indexOf(step) < EVIDENCE_STEPS.indexOf(report.step));

export async function transferPage(ctx: PageContext, model: Model, session: ComplianceSession, seq: number, registryPath?: string): Promise<Html> {
  const { w } = ctx;
  const created = ctx.snapshot.events[seq]?.event;
  if (!created || created.action !== 'transfer.create' || !created.transfer) return html`<p>${w.not_found}</p>`;
  const story = model.stories.get(created.transfer)!;
  const text = await fetchEvidence(session, created.transfer);
  const report = await checkEvidence(text, { logVerifierKey: session.verifierKey, ...(registryPath ? { registryPath } : {}) });
  let file: EvidenceFile | undefined;
  try {
    file = parseEvidenceFile(text);
  } catch {
    file = undefined;
  }
  const kid = (jws: string | null | undefined): string => {
    if (!jws) return '—';
    try {
      const header = JSON.parse(Buffer.from(jws.split('.')[0] ?? '', 'base64url').toString('utf8')) as { alg?: string; kid?: string };
      return `${header.alg ?? '?'} · ${header.kid ?? '?'}`;
    } catch {
      return '?';
    }
  };
  const jwsOf = { 'submission signature': file?.submission.signature, 'envelope signature': file?.envelope, 'receipt signature': file?.receipt } as Record<string, string | null | undefined>;
  const inSnapshot = (file?.events ?? []).filter((e) => e.seq < ctx.snapshot.events.length);
  const matching = inSnapshot.filter((e) => verifiedCopy(ctx.snapshot, e.seq, e.event)).length;
  return html`<dl>
<dt>${w.transfer}</dt><dd class="mono" id="transfer-id">${story.transferId}</dd>
<dt>${w.hospital} → ${w.insurer}</dt><dd>${story.hospitalId} → ${story.insurerId}</dd>
<dt>${w.consent}</dt><dd class="mono">${story.consentId}</dd></dl>
<h3>${w.evidence}</h3>
<p id="evidence-state" data-ok="${report.ok ? 'true' : 'false'}" class="${report.ok ? 'good' : 'bad'}">${report.ok ? `✓ ${w.evidence_ok}` : `⚠ ${w.evidence_failed}: ${report.failure}`}</p>
<ul>${report.proved.map((p) => html`<li>✓ ${p}</li>`)}</ul>
<p>${w.trust_note}: log ${report.trust.logKey}, parties ${report.trust.partyKeys}</p>
<h3>${w.hops}</h3>
${table(
  [w.action, 'alg · kid', '✓'],
  HOPS.map(([step, label]) => [w[label], html`<span class="mono">${kid(jwsOf[step])}</span>`, passed(report, step) ? html`<span class="good">✓</span>` : html`<span class="bad">✗</span>`]),
  [],
  'hops',
)}
<h3>${w.inclusion}</h3>
<p id="inclusion">${passed(report, 'inclusion') ? `✓ ${file?.events.length ?? 0}` : '✗'} · ${matching}/${inSnapshot.length} ${w.event_verified}</p>
${eventRows(ctx, (file?.events ?? []).flatMap((e) => (verifiedCopy(ctx.snapshot, e.seq, e.event) ? [ctx.snapshot.events[e.seq]!.event] : [])))}`;
}

export function consentList(ctx: PageContext): Html {
  const { w } = ctx;
  const grants = ctx.snapshot.events.filter((v) => v.event.action === 'consent.grant').reverse().slice(0, 200);
  return table(
    [w.consent, w.at, w.actor, w.insurer],
    grants.map(({ event: e }) => [html`<a href="/consent?seq=${e.seq}">${e.consent ?? ''}</a>`, e.at, e.actor, e.parties.join(', ')]),
    [],
    'consents',
  );
}

export function consentPage(ctx: PageContext, seq: number): Html {
  const { w } = ctx;
  const grant = ctx.snapshot.events[seq]?.event;
  if (!grant || grant.action !== 'consent.grant' || !grant.consent) return html`<p>${w.not_found}</p>`;
  const history = ctx.snapshot.events.filter((v) => v.event.consent === grant.consent).map((v) => v.event);
  return html`<p>${w.consent}: <span class="mono" id="consent-id">${grant.consent}</span></p>${eventRows(ctx, history)}`;
}

export function exportsBody(ctx: PageContext): Html {
  const { w } = ctx;
  return html`<p>${w.exports_help}</p><ul>
<li><a href="/export/events.csv">${w.csv}</a></li>
<li><a href="/export/events.jsonl">${w.jsonl}</a></li>
<li><a href="/export/audit-events.fhir.ndjson">${w.fhir}</a></li></ul>`;
}

export function reportForm(ctx: PageContext, month: string): Html {
  const { w } = ctx;
  return html`<form method="get" action="/report/view"><label for="month">${w.month}</label><input type="month" id="month" name="month" value="${month}" required>
<button class="primary" type="submit" name="format" value="html">${w.report_html}</button> <button class="primary" type="submit" name="format" value="pdf">${w.report_pdf}</button></form>`;
}
