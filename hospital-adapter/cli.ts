/** `hdx hospital …`: submit discharge records, record patients' consents, receive settlement decisions. */
import type { Command } from 'commander';
import { describeError } from '../proto/errors.js';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PARTY_SETTINGS, STOPPED_BEFORE_CONNECTING, openWithRetry } from '../cli/runtime/party.js';
import { runService } from '../cli/runtime/service.js';
import { addSettings, parseWith, type Setting } from '../cli/runtime/settings.js';
import { boolean, chinaTime, existingPath, folder, startOfChinaDay, wholeNumber } from '../cli/runtime/values.js';
import { makeFolders } from './durable.js';
import { CATEGORY_BY_NAME, grantConsent, revokeConsent } from './consent.js';
import { followDecisions, type DecisionEvent } from './decisions.js';
import { openHospitalSession } from './session.js';
import { bundleFiles, PURPOSE_BY_NAME, submitFiles, submitFilesStreamed } from './submit.js';
import { registerWatchCommand } from './watch/cli.js';
import { SubmitProgress } from './progress.js';
import { partitionBundles } from './local-validation.js';
import { importConsents, readConsentRows } from './consent-import.js';

const identityOption = ['--identity <dir>', 'this hospital’s folder from `hdx keys init` (parties/<id>)', process.env.HDX_IDENTITY] as const;
const gatewayOption = ['--gateway <host:port,…>', 'gateway address, or several replicas’ tried in order (default: from party.json)'] as const;

const DECISIONS_SETTINGS = {
  ...PARTY_SETTINGS,
  out: { flags: '--out <dir>', description: 'where decisions, stay settlements and the resume cursor are kept (one process per folder)', env: 'HDX_DECISIONS_OUT', parse: folder, required: true },
  follow: { flags: '--follow', description: 'keep waiting for new decisions, as a service', env: 'HDX_DECISIONS_FOLLOW', parse: boolean },
  json: { flags: '--json', description: 'one JSON object per decision', env: 'HDX_DECISIONS_JSON', parse: boolean },
} satisfies Record<string, Setting>;

interface DecisionsOptions {
  identity: string;
  gateway?: string;
  connectSeconds: number;
  out: string;
  follow?: boolean;
  json?: boolean;
}

export function registerHospitalCommands(program: Command): void {
  const hospital = program.command('hospital').description('hospital IT: submit discharge records and consents, receive decisions');
  registerWatchCommand(hospital);

  const decisions = hospital
    .command('decisions')
    .description('receive insurers’ settlement decisions, verify them, write them to --out for the HIS, print each stay’s settlement (with --follow a service: SIGTERM or SIGINT finishes, prints a summary, exits 0)');
  addSettings(decisions, DECISIONS_SETTINGS).action(async (opts: DecisionsOptions) => {
    const follow = Boolean(opts.follow);
    makeFolders(opts.out);
    await runService({
      name: 'hdx hospital decisions',
      lockDir: opts.out,
      async run(context) {
        const write = follow ? context.out : (line: string) => process.stdout.write(`${line}\n`);
        const session = await openWithRetry(() => openHospitalSession(opts.identity, opts.gateway, { forMs: 0 }), context, opts.connectSeconds);
        if (!session) return STOPPED_BEFORE_CONNECTING;
        try {
          const summary = await followDecisions(session, {
            outDir: opts.out,
            follow,
            signal: context.signal,
            onDecision: (e) => write(opts.json ? JSON.stringify(jsonOf(e)) : lineOf(e)),
            onReconnect: (error, delayMs) => context.log(`gateway unavailable (${describeError(error)}); following again in ${(delayMs / 1000).toFixed(1)} s`),
          });
          // A one-shot run fails on a refusal; a service reports it (refused/ keeps the token and the reason).
          if (summary.refused > 0 && !follow) process.exitCode = 1;
          return `${summary.received} decision(s) received, ${summary.refused} refused; cursor ${summary.cursor}`;
        } finally {
          session.close();
        }
      },
    });
  });

  hospital
    .command('submit')
    .description('sign and submit FHIR R4 discharge bundles (files, or folders of *.json)')
    .argument('<paths...>')
    .requiredOption(...identityOption)
    .option(...gatewayOption)
    .option('--purpose <purpose>', `one of ${Object.keys(PURPOSE_BY_NAME).join(', ')}`, 'DIRECT_SETTLEMENT')
    .option('--concurrency <n>', 'submissions in flight (unanswered records on the stream for several files)', parseWith(wholeNumber('submissions', 1, 1024)), 8)
    .option('--json', 'one JSON object per file, then a summary')
    .action(async (paths: string[], opts: { identity: string; gateway?: string; purpose: string; concurrency: number; json?: boolean }) => {
      const session = await openHospitalSession(opts.identity, opts.gateway);
      try {
        // What is not a bundle is skipped with its reason, never sent.
        const { bundles: files, skipped } = partitionBundles(bundleFiles(paths));
        const progress = new SubmitProgress(files.length + skipped.length, process.stderr);
        for (const skip of skipped) {
          progress.tick('SKIPPED');
          process.stdout.write(opts.json ? `${JSON.stringify({ file: skip.file, ok: false, status: 'SKIPPED', message: skip.reason })}\n` : `- ${skip.file}  skipped: ${skip.reason}\n`);
        }
        // One file: SubmitRecord. Several (a folder, a backlog): one SubmitRecords stream.
        const submit = files.length > 1 ? submitFilesStreamed : submitFiles;
        const outcomes = await submit(session, files, {
          purpose: opts.purpose,
          concurrency: opts.concurrency,
          window: Math.max(opts.concurrency, 32),
          onOutcome: (o) => {
            progress.tick(o.ok ? undefined : o.status);
            if (opts.json) process.stdout.write(`${JSON.stringify(o.ok ? { file: o.file, ok: true, ...o.response } : o)}\n`);
            else if (o.ok) {
              const to = o.response.transfers.map((t) => t.insurerId).join(', ');
              process.stdout.write(`✓ ${o.file}  ${o.response.submissionId}${o.response.replayed ? ' (replayed)' : ''} → ${to}\n`);
            } else process.stdout.write(`✗ ${o.file}  ${o.message}\n`);
          },
        });
        const accepted = outcomes.filter((o) => o.ok).length;
        const summary = { submitted: outcomes.length, accepted, refused: outcomes.length - accepted, skipped: skipped.length };
        process.stdout.write(
          opts.json ? `${JSON.stringify({ summary })}\n` : `${accepted}/${outcomes.length} accepted${skipped.length > 0 ? `, ${skipped.length} skipped (not bundles)` : ''}\n`,
        );
        if (summary.refused > 0) process.exitCode = 1;
      } finally {
        session.close();
      }
    });

  hospital
    .command('validate')
    .description('check FHIR R4 discharge bundles (files, or folders of *.json) against the exchange profile, as the gateway will; no gateway needed')
    .argument('<paths...>')
    .option('--purpose <purpose>', `one of ${Object.keys(PURPOSE_BY_NAME).join(', ')}`, 'DIRECT_SETTLEMENT')
    .option('--intake <file>', 'the exchange operator’s intake configuration (resident-ID systems, mappings of this hospital’s extensions)')
    .option('--hospital <id>', 'this hospital’s party id, for mappings that name hospitals')
    .option('--json', 'one JSON object per file')
    .action(async (paths: string[], opts: { purpose: string; intake?: string; hospital?: string; json?: boolean }) => {
      const { validateFiles } = await import('./validate-local.js');
      const reports = validateFiles(bundleFiles(paths), {
        purpose: opts.purpose,
        ...(opts.intake !== undefined && { intakePath: opts.intake }),
        ...(opts.hospital !== undefined && { hospitalId: opts.hospital }),
      });
      for (const r of reports) {
        if (opts.json) process.stdout.write(`${JSON.stringify({ file: r.file, ok: r.problems.length === 0, problems: r.problems, mapped: r.mapped })}\n`);
        else if (r.problems.length === 0) process.stdout.write(`✓ ${r.file}${r.mapped.length > 0 ? `  (mapped: ${r.mapped.join(', ')})` : ''}\n`);
        else for (const p of r.problems) process.stdout.write(`✗ ${r.file}  ${p.path} ${p.expected}\n`);
      }
      const failed = reports.filter((r) => r.problems.length > 0).length;
      if (!opts.json) process.stdout.write(`${reports.length - failed}/${reports.length} valid for ${opts.purpose}\n`);
      if (failed > 0) process.exitCode = 1;
    });

  const consent = hospital.command('consent').description('record or revoke a patient’s consent');
  consent
    .command('grant')
    .description('record a consent captured at the desk (the resident ID is read from --patient-id-file or stdin)')
    .requiredOption(...identityOption)
    .option(...gatewayOption)
    .option('--patient-id-file <file>', 'file holding the patient’s resident ID (keeps it out of shell history)', parseWith(existingPath('file')))
    .requiredOption('--insurer <id>', 'the insurer the patient named')
    .requiredOption('--policy <number>', 'the patient’s policy number')
    .option('--purpose <purpose>', 'DIRECT_SETTLEMENT | CLAIM | STATISTICS', 'DIRECT_SETTLEMENT')
    .option('--categories <list>', 'comma-separated data categories', 'encounter,diagnosis,procedure,medication,lab,charges')
    .option('--hospitals <list>', 'comma-separated hospital ids (default: this hospital); "*" for any')
    .option('--valid-from <date>', 'start of validity: 2026-09-01 (midnight) or 2026-09-01T08:30, China time unless it ends in Z or ±hh:mm (default: the start of today, so today’s stays are covered)', parseWith(chinaTime))
    .option('--valid-days <n>', 'validity from now, in days', parseWith(wholeNumber('days', 1, 36_600)), 90)
    .option('--channel <channel>', 'how consent was captured', 'deposit-desk')
    .option('--notice-version <v>', 'privacy notice version shown', 'v1')
    .requiredOption('--form-digest <digest>', 'sha256:<base64url> of the signed consent form')
    .option('--json', 'print the response as JSON')
    .action(async (opts: Record<string, string | number | boolean | Date | undefined>) => {
      const patientId = (opts.patientIdFile ? readFileSync(String(opts.patientIdFile), 'utf8') : readFileSync(0, 'utf8')).trim();
      const session = await openHospitalSession(String(opts.identity), opts.gateway as string | undefined);
      try {
        const now = new Date();
        const hospitals = String(opts.hospitals ?? session.identity.party.id);
        const categories = String(opts.categories).split(',').map((c) => {
          const value = CATEGORY_BY_NAME[c.trim()];
          if (value === undefined) throw new Error(`unknown category; use ${Object.keys(CATEGORY_BY_NAME).join(', ')}`);
          return value;
        });
        const response = await grantConsent(session, {
          idempotencyKey: `grant-${randomUUID()}`,
          patientNationalId: patientId,
          terms: {
            insurerId: String(opts.insurer),
            policyNumber: String(opts.policy),
            purpose: PURPOSE_BY_NAME[String(opts.purpose)] ?? 0,
            categories,
            hospitalIds: hospitals === '*' ? [] : hospitals.split(','),
            anyHospital: hospitals === '*',
            validFrom: opts.validFrom instanceof Date ? opts.validFrom : startOfChinaDay(now),
            validUntil: new Date(now.getTime() + Number(opts.validDays) * 86_400_000),
            capture: {
              channel: String(opts.channel),
              capturedAt: now,
              noticeVersion: String(opts.noticeVersion),
              formDigest: String(opts.formDigest),
            },
          },
        });
        process.stdout.write(
          opts.json
            ? `${JSON.stringify({ consentId: response.consent?.consentId, receipt: response.receipt })}\n`
            : `consent ${response.consent?.consentId} recorded (receipt verified)\n`,
        );
      } finally {
        session.close();
      }
    });
  consent
    .command('import')
    .description('record the consents of a .csv (header row) or .ndjson file in one session; rows are reported by number, never by patient')
    .argument('<file>')
    .requiredOption(...identityOption)
    .option(...gatewayOption)
    .option('--concurrency <n>', 'grants in flight', '8')
    .option('--json', 'one JSON object per row, then a summary')
    .action(async (file: string, opts: { identity: string; gateway?: string; concurrency: string; json?: boolean }) => {
      const rows = readConsentRows(file);
      const session = await openHospitalSession(opts.identity, opts.gateway);
      try {
        const outcomes = await importConsents(session, rows, {
          concurrency: Number(opts.concurrency),
          onOutcome: (o) =>
            void process.stdout.write(
              opts.json ? `${JSON.stringify(o)}\n` : o.ok ? `✓ row ${o.row}  consent ${o.consentId}${o.replayed ? ' (already recorded)' : ''}\n` : `✗ row ${o.row}  ${o.reason}\n`,
            ),
        });
        const refused = outcomes.filter((o) => !o.ok).length;
        const summary = { rows: outcomes.length, recorded: outcomes.length - refused, refused };
        process.stdout.write(opts.json ? `${JSON.stringify({ summary })}\n` : `${summary.recorded}/${summary.rows} recorded\n`);
        if (refused > 0) process.exitCode = 1;
      } finally {
        session.close();
      }
    });
  consent
    .command('revoke')
    .description('revoke a consent; it takes effect at once, also for records not yet delivered')
    .argument('<consentId>')
    .requiredOption(...identityOption)
    .option(...gatewayOption)
    .option('--json', 'print the response as JSON')
    .action(async (consentId: string, opts: { identity: string; gateway?: string; json?: boolean }) => {
      const session = await openHospitalSession(opts.identity, opts.gateway);
      try {
        const response = await revokeConsent(session, { idempotencyKey: `revoke-${consentId}`, consentId });
        process.stdout.write(
          opts.json
            ? `${JSON.stringify({ consentId, withheldTransfers: response.withheldTransfers, receipt: response.receipt })}\n`
            : `consent ${consentId} revoked; ${response.withheldTransfers} undelivered transfer(s) withheld\n`,
        );
      } finally {
        session.close();
      }
    });
}

/** The desk's line for a stay: charges, 医保, insurer share, what the patient still owes. */
function lineOf(e: DecisionEvent): string {
  if (!e.ok) return `✗ decision ${e.decisionId} (transfer ${e.transferId}) refused: ${e.reason}`;
  const s = e.settlement;
  const d = e.decision;
  const revision = d.claims.hdx.revisionOf ? ' (revised)' : '';
  return (
    `✓ ${s.submissionId}  ${d.insurerId} ${d.claims.hdx.outcome}${revision}\n` +
    `    total ¥${s.totalCharges}  医保 ¥${s.socialInsurancePaid}  insurer ¥${s.insurerPaid}  patient ¥${s.patientRemainder}${s.final ? '' : '  (pending information)'}`
  );
}

function jsonOf(e: DecisionEvent) {
  if (!e.ok) return e;
  const { jws: _jws, ...decision } = e.decision;
  return { ok: true, path: e.path, decision, settlement: { ...e.settlement, decisions: undefined } };
}
