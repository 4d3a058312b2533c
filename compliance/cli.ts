/** `hdx audit …`: the regulator's tools — query, verify, prove, check a proof offline. */
import type { Command } from 'commander';
import { join } from 'node:path';
import { parseWith } from '../cli/runtime/settings.js';
import { chinaTime, existingPath, wholeNumber } from '../cli/runtime/values.js';
import { unaryCall } from '../proto/connect.js';
import { registerConsoleCommand } from './console/command.js';
import { checkEvidence, checkEvidenceFile, fetchEvidence, type EvidenceReport } from './evidence.js';
import { exportLog, isExportFormat } from './export.js';
import { createOutput } from './output.js';
import { checkInclusionProofFile, proveEvent } from './proofs.js';
import { fetchServiceLevels, formatServiceLevels } from './service-levels.js';
import { loadPartyIdentity } from '../keys/exchange/load.js';
import { logOriginOf, logVerifierKey, openComplianceSession } from './session.js';
import { disagreement, queryVerified } from './query.js';
import { verifyLog } from './verify.js';

const identityOption = ['--identity <dir>', 'this regulator’s folder from `hdx keys init` (parties/<id>)', process.env.HDX_IDENTITY] as const;
const gatewayOption = ['--gateway <host:port,…>', 'gateway address, or several replicas’ tried in order (default: from party.json)'] as const;
const logKeyOption = ['--log-key <vkey>', 'the audit log’s C2SP verifier key (default: log.pub in the identity folder)'] as const;

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('compliance officers: query and verify the audit log');

  audit
    .command('query')
    .description('list audit events matching the filters, from the log verified here (the gateway’s search is only compared)')
    .requiredOption(...identityOption)
    .option(...gatewayOption)
    .option(...logKeyOption)
    .option('--state <file>', 'where the last verified checkpoint is kept (default: <identity>/audit-state.json)')
    .option('--since <time>', '2026-09-01 or 2026-09-01T08:30, China time unless it ends in Z or ±hh:mm', parseWith(chinaTime))
    .option('--until <time>', '2026-09-01 or 2026-09-01T08:30, China time unless it ends in Z or ±hh:mm', parseWith(chinaTime))
    .option('--party <id>', 'events a party acted in or received')
    .option('--action <action>', 'e.g. consent.grant, record.submit, record.deny, transfer.deliver')
    .option('--consent <id>')
    .option('--transfer <id>')
    .option('--patient-id-file <file>', 'a file holding the patient’s resident ID: who received this patient’s data', parseWith(existingPath('file')))
    .option('--limit <n>', 'at most this many events (0: all)', parseWith(wholeNumber('events', 0)), 0)
    .option('--json', 'JSON Lines')
    .action(async (opts: Record<string, string | number | boolean | Date | undefined>) => {
      const session = openComplianceSession(String(opts.identity), {
        ...(opts.gateway ? { address: String(opts.gateway) } : {}),
        ...(opts.logKey ? { verifierKey: String(opts.logKey) } : {}),
      });
      try {
        const { readFileSync } = await import('node:fs');
        const report = await queryVerified(
          session,
          {
            ...(opts.since instanceof Date ? { since: opts.since } : {}),
            ...(opts.until instanceof Date ? { until: opts.until } : {}),
            ...(opts.party ? { partyId: String(opts.party) } : {}),
            ...(opts.action ? { action: String(opts.action) } : {}),
            ...(opts.consent ? { consentId: String(opts.consent) } : {}),
            ...(opts.transfer ? { transferId: String(opts.transfer) } : {}),
            ...(opts.patientIdFile ? { patientNationalId: readFileSync(String(opts.patientIdFile), 'utf8').trim() } : {}),
            limit: Number(opts.limit),
          },
          { statePath: String(opts.state ?? join(String(opts.identity), 'audit-state.json')) },
        );
        if (!report.verify.ok) {
          process.stderr.write(`✗ ${report.verify.failure}\n✗ the log does not verify: no answer is given\n`);
          process.exitCode = 1;
          return;
        }
        for (const { event: e, json } of report.events) {
          process.stdout.write(
            opts.json
              ? `${json}\n`
              : `${String(e.seq).padStart(6)}  ${e.at}  ${e.action.padEnd(20)} ${e.outcome.padEnd(7)} ${e.actor}${e.transfer ? `  ${e.transfer}` : ''}${e.consent ? `  ${e.consent}` : ''}\n`,
          );
        }
        if (!opts.json) process.stdout.write(`${report.events.length} event(s) of the log verified up to ${report.coveredSize}\n`);
        const disagrees = disagreement(report);
        if (disagrees) {
          process.stderr.write(`✗ ${disagrees}\n`);
          process.exitCode = 1;
        }
      } finally {
        session.close();
      }
    });

  audit
    .command('verify')
    .description('prove the log is signed, only grew since last time, and (default) that every event is intact')
    .requiredOption(...identityOption)
    .option(...gatewayOption)
    .option(...logKeyOption)
    .option('--state <file>', 'where the last verified checkpoint is kept (default: <identity>/audit-state.json)')
    .option('--sample <n>', 'spot-check N random inclusion proofs instead of downloading every event', parseWith(wholeNumber('proofs', 1)))
    .option('--json', 'print the report as JSON')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const session = openComplianceSession(String(opts.identity), {
        ...(opts.gateway ? { address: String(opts.gateway) } : {}),
        ...(opts.logKey ? { verifierKey: String(opts.logKey) } : {}),
      });
      try {
        const report = await verifyLog(session, {
          statePath: String(opts.state ?? join(String(opts.identity), 'audit-state.json')),
          full: opts.sample === undefined,
          ...(opts.sample !== undefined ? { sample: Number(opts.sample) } : {}),
          ...(process.stderr.isTTY && !opts.json
            ? { onProgress: (done: number, total: number) => process.stderr.write(`\r  ${done}/${total} events`) }
            : {}),
        });
        if (process.stderr.isTTY && !opts.json) process.stderr.write('\n');
        if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
        else {
          for (const line of report.proved) process.stdout.write(`✓ ${line}\n`);
          process.stdout.write(report.ok ? `audit log verified at size ${report.treeSize}\n` : `✗ ${report.failure}\n`);
        }
        if (!report.ok) process.exitCode = 1;
      } finally {
        session.close();
      }
    });

  audit
    .command('prove')
    .description('print an inclusion proof for event <seq> that a third party can verify offline')
    .argument('<seq>', 'the event’s sequence number', parseWith(wholeNumber('events', 0)))
    .requiredOption(...identityOption)
    .option(...gatewayOption)
    .action(async (seq: number, opts: { identity: string; gateway?: string }) => {
      const session = openComplianceSession(opts.identity, { ...(opts.gateway ? { address: opts.gateway } : {}) });
      try {
        process.stdout.write(`${JSON.stringify(await proveEvent(session, Number(seq)), null, 2)}\n`);
      } finally {
        session.close();
      }
    });

  audit
    .command('check-proof')
    .description('verify an inclusion proof file offline, with no gateway')
    .argument('<file>')
    .option(...logKeyOption)
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { logKey?: string; json?: boolean }) => {
      const result = checkInclusionProofFile(file, opts.logKey);
      process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : result.ok ? `✓ ${result.message}\n` : `✗ ${result.message}\n`);
      if (!result.ok) process.exitCode = 1;
    });

  audit
    .command('export')
    .description('stream every event up to the latest signed checkpoint, checking the chain and root as it goes')
    .requiredOption(...identityOption)
    .option(...gatewayOption)
    .option(...logKeyOption)
    .option('--format <format>', 'jsonl (events as logged) or fhir (FHIR R4 AuditEvent NDJSON, IHE BALP)', 'jsonl')
    .option('--out <file>', 'write here (atomically, on success) instead of standard output')
    .option('--json', 'print the report as JSON (on standard error)')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const format = String(opts.format);
      if (!isExportFormat(format)) throw new Error('--format must be jsonl or fhir');
      const session = openComplianceSession(String(opts.identity), {
        ...(opts.gateway ? { address: String(opts.gateway) } : {}),
        ...(opts.logKey ? { verifierKey: String(opts.logKey) } : {}),
      });
      const output = createOutput(opts.out ? String(opts.out) : undefined);
      const tty = process.stderr.isTTY && !opts.json;
      let lastDraw = 0;
      try {
        const report = await exportLog(session, {
          format,
          out: output.stream,
          ...(tty
            ? {
                onProgress: (done: number, total: number) => {
                  const now = Date.now();
                  if (done < total && now - lastDraw < 100) return;
                  lastDraw = now;
                  const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
                  process.stderr.write(`\r  exported ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} events (${pct}%)`);
                },
              }
            : {}),
        });
        if (tty) process.stderr.write('\n');
        await output.finish(report.ok);
        if (opts.json) process.stderr.write(`${JSON.stringify(report)}\n`);
        else {
          for (const line of report.proved) process.stderr.write(`✓ ${line}\n`);
          process.stderr.write(report.ok ? `exported ${report.exported} events (${format})\n` : `✗ ${report.failure}\n`);
        }
        if (!report.ok) process.exitCode = 1;
      } catch (error) {
        await output.finish(false);
        throw error;
      } finally {
        session.close();
      }
    });

  audit
    .command('evidence')
    .description('fetch the evidence file of one transfer (signatures, events, inclusion proofs), checked on arrival')
    .argument('<transfer>')
    .requiredOption(...identityOption)
    .option(...gatewayOption)
    .option(...logKeyOption)
    .option('--registry <file>', 'your copy of the exchange’s party registry, for the parties’ keys')
    .option('--out <file>', 'write the evidence here instead of standard output')
    .action(async (transfer: string, opts: Record<string, string | undefined>) => {
      const session = openComplianceSession(String(opts.identity), {
        ...(opts.gateway ? { address: opts.gateway } : {}),
        ...(opts.logKey ? { verifierKey: opts.logKey } : {}),
      });
      try {
        const evidence = await fetchEvidence(session, transfer);
        const report = await checkEvidence(evidence, {
          logVerifierKey: session.verifierKey,
          ...(opts.registry ? { registryPath: opts.registry } : {}),
        });
        if (opts.out) {
          const output = createOutput(opts.out);
          output.stream.write(`${JSON.stringify(JSON.parse(evidence), null, 2)}\n`);
          await output.finish(true);
        } else process.stdout.write(`${JSON.stringify(JSON.parse(evidence), null, 2)}\n`);
        printEvidenceReport(report, opts.out ? process.stdout : process.stderr);
        if (!report.ok) process.exitCode = 1;
      } finally {
        session.close();
      }
    });

  audit
    .command('check-evidence')
    .description('verify an evidence file offline, with no gateway')
    .argument('<file>')
    .option(...logKeyOption)
    .option('--identity <dir>', 'take the log key from this regulator folder’s log.pub')
    .option('--registry <file>', 'your copy of the exchange’s party registry, for the parties’ keys')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, opts: { logKey?: string; identity?: string; registry?: string; json?: boolean }) => {
      const logKey = opts.logKey ?? (opts.identity ? identityLogKey(opts.identity) : undefined);
      const report = await checkEvidenceFile(file, {
        ...(logKey ? { logVerifierKey: logKey } : {}),
        ...(opts.registry ? { registryPath: opts.registry } : {}),
      });
      if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else printEvidenceReport(report, process.stdout);
      if (!report.ok) process.exitCode = 1;
    });

  audit
    .command('sla')
    .description('service levels per insurer and window: median and p95 submit-to-decision time, share within the window, overdue transfers')
    .requiredOption(...identityOption)
    .option(...gatewayOption)
    .option('--since <time>', 'transfers submitted from then: ' + '2026-09-01 or 2026-09-01T08:30, China time unless it ends in Z or ±hh:mm', parseWith(chinaTime))
    .option('--until <time>', 'transfers submitted before then (default: now): ' + '2026-09-01 or 2026-09-01T08:30, China time unless it ends in Z or ±hh:mm', parseWith(chinaTime))
    .option('--insurer <id>', 'one insurer only')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { identity: string; gateway?: string; since?: Date; until?: Date; insurer?: string; json?: boolean }) => {
      const session = openComplianceSession(opts.identity, { ...(opts.gateway ? { address: opts.gateway } : {}) });
      try {
        const report = await fetchServiceLevels(session, {
          since: opts.since,
          until: opts.until,
          ...(opts.insurer ? { insurerId: opts.insurer } : {}),
        });
        process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : formatServiceLevels(report));
      } finally {
        session.close();
      }
    });

  registerConsoleCommand(audit);

  audit
    .command('checkpoint')
    .description('print the gateway’s latest signed checkpoint')
    .requiredOption(...identityOption)
    .option(...gatewayOption)
    .action(async (opts: { identity: string; gateway?: string }) => {
      const session = openComplianceSession(opts.identity, { ...(opts.gateway ? { address: opts.gateway } : {}) });
      try {
        const response = await unaryCall(session.clients.audit, session.clients.audit.getCheckpoint, {});
        process.stdout.write(response.checkpoint);
      } finally {
        session.close();
      }
    });
}

function printEvidenceReport(report: EvidenceReport, out: NodeJS.WritableStream): void {
  for (const line of report.proved) out.write(`✓ ${line}\n`);
  if (report.trust.logKey !== 'configured') out.write('! the log key came from the evidence file itself: pass --log-key to check against yours\n');
  if (report.trust.partyKeys !== 'registry') out.write('! the parties’ keys came from the evidence file itself: pass --registry to check against yours\n');
  out.write(report.ok ? `evidence for ${report.transferId} verified\n` : `✗ ${report.failure}\n`);
}

/** The C2SP verifier key of the log, from a regulator folder's `log.pub`. */
function identityLogKey(identityDir: string): string {
  const identity = loadPartyIdentity(identityDir);
  const origin = logOriginOf(identity.party.trustDomain);
  return logVerifierKey(origin, identity.logPublicKeyPem ? { publicKeyPem: identity.logPublicKeyPem } : {});
}
