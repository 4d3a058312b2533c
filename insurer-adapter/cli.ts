/** `hdx insurer pull`: receive, verify, decrypt, store and acknowledge transfers; optionally decide them. */
import type { Command } from 'commander';
import { PARTY_SETTINGS, STOPPED_BEFORE_CONNECTING, openWithRetry } from '../cli/runtime/party.js';
import { runService } from '../cli/runtime/service.js';
import { addSettings, type Setting } from '../cli/runtime/settings.js';
import { boolean, existingPath, folder, wholeNumber } from '../cli/runtime/values.js';
import { mkdirSync } from 'node:fs';
import { describeError } from '../proto/errors.js';
import { loadAdjudicator } from './adjudicate.js';
import { pullTransfers, type PullOutcome } from './pull.js';
import { pullAndDecide, type DecideOutcome } from './pull-and-decide.js';
import { openInsurerSession } from './session.js';

const PULL_SETTINGS = {
  ...PARTY_SETTINGS,
  out: { flags: '--out <dir>', description: 'where de-identified bundles and envelope claims are written (one process per folder)', env: 'HDX_PULL_OUT', parse: folder, required: true },
  max: { flags: '--max <n>', description: 'stop after this many transfers (0: no limit)', env: 'HDX_PULL_MAX', parse: wholeNumber('transfers', 0), default: 0 },
  follow: { flags: '--follow', description: 'keep waiting for new transfers, as a service', env: 'HDX_PULL_FOLLOW', parse: boolean },
  leaseSeconds: { flags: '--lease-seconds <n>', description: 'lease to ask for (0: the gateway’s)', env: 'HDX_PULL_LEASE_SECONDS', parse: wholeNumber('seconds', 0), default: 0 },
  concurrency: { flags: '--concurrency <n>', description: 'transfers received (and decided) at once', env: 'HDX_PULL_CONCURRENCY', parse: wholeNumber('transfers', 1, 1024), default: 8 },
  adjudicate: { flags: '--adjudicate <module>', description: 'rules module (exports adjudicate): decide each transfer, sign and submit the decision; first finishes undecided transfers already in --out', env: 'HDX_PULL_ADJUDICATE', parse: existingPath('file') },
  json: { flags: '--json', description: 'one JSON object per transfer (and per decision)', env: 'HDX_PULL_JSON', parse: boolean },
} satisfies Record<string, Setting>;

interface PullCliOptions {
  identity: string;
  gateway?: string;
  connectSeconds: number;
  out: string;
  max: number;
  follow?: boolean;
  leaseSeconds: number;
  concurrency: number;
  adjudicate?: string;
  json?: boolean;
}

export function registerInsurerCommands(program: Command): void {
  const insurer = program.command('insurer').description('insurers: receive the records patients authorised');
  const pull = insurer
    .command('pull')
    .description('pull transfers, verify the gateway’s signature, decrypt, write them to --out, then acknowledge (with --follow a service: SIGTERM or SIGINT finishes, prints a summary, exits 0)');
  addSettings(pull, PULL_SETTINGS).action(async (opts: PullCliOptions) => {
    const follow = Boolean(opts.follow);
    const rules = opts.adjudicate ? await loadAdjudicator(opts.adjudicate) : undefined;
    mkdirSync(opts.out, { recursive: true });
    await runService({
      name: 'hdx insurer pull',
      lockDir: opts.out,
      async run(context) {
        const write = follow ? context.out : (line: string) => process.stdout.write(`${line}\n`);
        const session = await openWithRetry(() => openInsurerSession(opts.identity, opts.gateway, { forMs: 0 }), context, opts.connectSeconds);
        if (!session) return STOPPED_BEFORE_CONNECTING;
        const onOutcome = (o: PullOutcome) => {
          const pending = o.ok && o.received.acknowledgementPending;
          if (opts.json) write(JSON.stringify(o.ok ? { transferId: o.transferId, ok: true, path: o.received.bundlePath, claims: o.received.claims, ...(pending && { acknowledgementPending: pending }) } : o));
          // Stored, not refused: the gateway offers it again and that delivery acknowledges it.
          else if (pending) write(`… ${o.transferId} → ${o.received.bundlePath} stored; acknowledgement pending (${pending}), the gateway will offer it again`);
          else write(o.ok ? `✓ ${o.transferId} → ${o.received.bundlePath}` : `✗ ${o.transferId} refused: ${o.reason}`);
        };
        // The decision's amounts and explanation stay in the inbox folder; the console shows the outcome only.
        const onDecision = (d: DecideOutcome) => {
          if (opts.json) {
            write(JSON.stringify(d.ok ? { transferId: d.transferId, ok: true, decisionId: d.decided.decisionId, outcome: d.decided.outcome, replayed: d.decided.response.replayed } : d));
          } else write(d.ok ? `  ⇒ ${d.transferId} ${d.decided.outcome} (${d.decided.decisionId})` : `  ✗ ${d.transferId} not decided: ${d.reason}`);
        };
        try {
          const onReconnect = (error: Error, delayMs: number) => context.log(`gateway unavailable (${describeError(error)}); following again in ${(delayMs / 1000).toFixed(1)} s`);
          const options = { outDir: opts.out, max: opts.max, follow, leaseSeconds: opts.leaseSeconds, concurrency: opts.concurrency, signal: context.signal, onOutcome, onReconnect };
          const { pulled, decided } = rules
            ? await pullAndDecide(session, { ...options, rules, onDecision })
            : { pulled: await pullTransfers(session, options), decided: [] as DecideOutcome[] };
          const refused = pulled.filter((o) => !o.ok).length;
          const pending = pulled.filter((o) => o.ok && o.received.acknowledgementPending).length;
          const undecided = decided.filter((d) => !d.ok).length;
          // A one-shot run fails on a refusal; a service reports it and goes on.
          if ((refused > 0 || undecided > 0) && !follow) process.exitCode = 1;
          return `${pulled.length - refused} received${pending ? ` (${pending} acknowledgement pending)` : ''}, ${refused} refused${rules ? `, ${decided.length - undecided} decided, ${undecided} not decided` : ''}`;
        } finally {
          session.close();
        }
      },
    });
  });
}
