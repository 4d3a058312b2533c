/** `hdx insurer pull`: receive, verify, decrypt, store and acknowledge transfers; optionally decide them. */
import type { Command } from 'commander';
import { describeError } from '../proto/errors.js';
import { loadAdjudicator } from './adjudicate.js';
import { pullTransfers, type PullOutcome } from './pull.js';
import { pullAndDecide, type DecideOutcome } from './pull-and-decide.js';
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
    .option('--concurrency <n>', 'transfers received (and decided) at once', '8')
    .option('--adjudicate <module>', 'rules module (exports adjudicate): decide each transfer, sign and submit the decision; first finishes undecided transfers already in --out')
    .option('--json', 'one JSON object per transfer (and per decision)')
    .action(async (opts: { identity: string; gateway?: string; out: string; max: string; follow?: boolean; leaseSeconds: string; concurrency: string; adjudicate?: string; json?: boolean }) => {
      const rules = opts.adjudicate ? await loadAdjudicator(opts.adjudicate) : undefined;
      const session = await openInsurerSession(opts.identity, opts.gateway);
      const abort = new AbortController();
      process.once('SIGINT', () => abort.abort());
      const onOutcome = (o: PullOutcome) => {
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(o.ok ? { transferId: o.transferId, ok: true, path: o.received.bundlePath, claims: o.received.claims } : o)}\n`);
        } else {
          process.stdout.write(o.ok ? `✓ ${o.transferId} → ${o.received.bundlePath}\n` : `✗ ${o.transferId} refused: ${o.reason}\n`);
        }
      };
      // The decision's amounts and explanation stay in the inbox folder; the console shows the outcome only.
      const onDecision = (d: DecideOutcome) => {
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(d.ok ? { transferId: d.transferId, ok: true, decisionId: d.decided.decisionId, outcome: d.decided.outcome, replayed: d.decided.response.replayed } : d)}\n`);
        } else {
          process.stdout.write(d.ok ? `  ⇒ ${d.transferId} ${d.decided.outcome} (${d.decided.decisionId})\n` : `  ✗ ${d.transferId} not decided: ${d.reason}\n`);
        }
      };
      try {
        const onReconnect = (error: Error, delayMs: number) => {
          process.stderr.write(`gateway unavailable (${describeError(error)}); following again in ${(delayMs / 1000).toFixed(1)} s\n`);
        };
        const pull = { outDir: opts.out, max: Number(opts.max), follow: Boolean(opts.follow), leaseSeconds: Number(opts.leaseSeconds), concurrency: Number(opts.concurrency), signal: abort.signal, onOutcome, onReconnect };
        const { pulled, decided } = rules
          ? await pullAndDecide(session, { ...pull, rules, onDecision })
          : { pulled: await pullTransfers(session, pull), decided: [] as DecideOutcome[] };
        const refused = pulled.filter((o) => !o.ok).length;
        const undecided = decided.filter((d) => !d.ok).length;
        if (!opts.json) {
          process.stdout.write(`${pulled.length - refused} received, ${refused} refused${rules ? `, ${decided.length - undecided} decided, ${undecided} not decided` : ''}\n`);
        }
        if (refused > 0 || undecided > 0) process.exitCode = 1;
      } finally {
        session.close();
      }
    });
}
