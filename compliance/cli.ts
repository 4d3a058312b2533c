/** `hdx audit …`: the regulator's tools — query, verify, prove, check a proof offline. */
import type { Command } from 'commander';
import { join } from 'node:path';
import { unaryCall } from '../proto/connect.js';
import type { QueryEventsResponse } from '../proto/gen/hdx/v1/audit.js';
import { checkInclusionProofFile, proveEvent } from './proofs.js';
import { openComplianceSession } from './session.js';
import { verifyLog } from './verify.js';

const identityOption = ['--identity <dir>', 'this regulator’s folder from `hdx keys init` (parties/<id>)', process.env.HDX_IDENTITY] as const;
const gatewayOption = ['--gateway <host:port>', 'gateway address (default: from party.json)'] as const;
const logKeyOption = ['--log-key <vkey>', 'the audit log’s C2SP verifier key (default: log.pub in the identity folder)'] as const;

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('compliance officers: query and verify the audit log');

  audit
    .command('query')
    .description('list audit events matching the filters')
    .requiredOption(...identityOption)
    .option(...gatewayOption)
    .option('--since <time>', 'ISO time')
    .option('--until <time>', 'ISO time')
    .option('--party <id>', 'events a party acted in or received')
    .option('--action <action>', 'e.g. consent.grant, record.submit, record.deny, transfer.deliver')
    .option('--consent <id>')
    .option('--transfer <id>')
    .option('--patient-id-file <file>', 'a file holding the patient’s resident ID: who received this patient’s data')
    .option('--limit <n>', 'at most this many events', '0')
    .option('--json', 'JSON Lines')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const session = openComplianceSession(String(opts.identity), { ...(opts.gateway ? { address: String(opts.gateway) } : {}) });
      try {
        const { readFileSync } = await import('node:fs');
        const stream = session.clients.audit.queryEvents({
          since: opts.since ? new Date(String(opts.since)) : undefined,
          until: opts.until ? new Date(String(opts.until)) : undefined,
          partyId: String(opts.party ?? ''),
          action: String(opts.action ?? ''),
          consentId: String(opts.consent ?? ''),
          transferId: String(opts.transfer ?? ''),
          patientNationalId: opts.patientIdFile ? readFileSync(String(opts.patientIdFile), 'utf8').trim() : '',
          afterSeq: 0,
          untilSeq: 0,
          limit: Number(opts.limit),
        });
        let count = 0;
        for await (const message of stream as AsyncIterable<QueryEventsResponse>) {
          if (!message.event) continue;
          count += 1;
          const event = JSON.parse(message.event.eventJson) as Record<string, unknown>;
          process.stdout.write(
            opts.json
              ? `${message.event.eventJson}\n`
              : `${String(event.seq).padStart(6)}  ${event.at}  ${String(event.action).padEnd(20)} ${String(event.outcome).padEnd(7)} ${event.actor}${event.transfer ? `  ${event.transfer}` : ''}${event.consent ? `  ${event.consent}` : ''}\n`,
          );
        }
        if (!opts.json) process.stdout.write(`${count} event(s)\n`);
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
    .option('--sample <n>', 'spot-check N random inclusion proofs instead of downloading every event')
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
    .argument('<seq>')
    .requiredOption(...identityOption)
    .option(...gatewayOption)
    .action(async (seq: string, opts: { identity: string; gateway?: string }) => {
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
