/** `hdx insurer pull`: receive, verify, decrypt, store and acknowledge transfers. */
import type { Command } from 'commander';
import { pullTransfers } from './pull.js';
import { openInsurerSession } from './session.js';

export function registerInsurerCommands(program: Command): void {
  const insurer = program.command('insurer').description('insurers: receive the records patients authorised');
  insurer
    .command('pull')
    .description('pull transfers, verify the gateway’s signature, decrypt, write them to --out, then acknowledge')
    .requiredOption('--identity <dir>', 'this insurer’s folder from `hdx keys init` (parties/<id>)', process.env.HDX_IDENTITY)
    .option('--gateway <host:port>', 'gateway address (default: from party.json)')
    .requiredOption('--out <dir>', 'where de-identified bundles and envelope claims are written')
    .option('--max <n>', 'stop after this many transfers', '0')
    .option('--follow', 'keep waiting for new transfers (Ctrl-C to stop)')
    .option('--lease-seconds <n>', 'lease to ask for', '0')
    .option('--json', 'one JSON object per transfer')
    .action(async (opts: { identity: string; gateway?: string; out: string; max: string; follow?: boolean; leaseSeconds: string; json?: boolean }) => {
      const session = await openInsurerSession(opts.identity, opts.gateway);
      const abort = new AbortController();
      process.once('SIGINT', () => abort.abort());
      try {
        const outcomes = await pullTransfers(session, {
          outDir: opts.out,
          max: Number(opts.max),
          follow: Boolean(opts.follow),
          leaseSeconds: Number(opts.leaseSeconds),
          signal: abort.signal,
          onOutcome: (o) => {
            if (opts.json) {
              process.stdout.write(`${JSON.stringify(o.ok ? { transferId: o.transferId, ok: true, path: o.received.bundlePath, claims: o.received.claims } : o)}\n`);
            } else {
              process.stdout.write(o.ok ? `✓ ${o.transferId} → ${o.received.bundlePath}\n` : `✗ ${o.transferId} refused: ${o.reason}\n`);
            }
          },
        });
        const refused = outcomes.filter((o) => !o.ok).length;
        if (!opts.json) process.stdout.write(`${outcomes.length - refused} received, ${refused} refused\n`);
        if (refused > 0) process.exitCode = 1;
      } finally {
        session.close();
      }
    });
}
