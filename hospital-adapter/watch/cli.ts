/** `hdx hospital watch <drop folder>`: the hospital daemon (see daemon.ts). */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { join } from 'node:path';
import { loadPartyIdentity } from '../../keys/exchange/load.js';
import { lockFolder } from '../../cli/runtime/folder-lock.js';
import { describeError } from '../../proto/errors.js';
import { followDecisions } from '../decisions.js';
import { makeFolders } from '../durable.js';
import { localCheck } from '../local-validation.js';
import { openHospitalSession, type HospitalSession } from '../session.js';
import { PURPOSE_BY_NAME } from '../submit.js';
import { watchDropFolder, type WatchEvent } from './daemon.js';

const stamp = (line: string): string => `${new Date().toISOString()} ${line}\n`;

function lineOf(event: WatchEvent): string | undefined {
  switch (event.kind) {
    case 'recorded':
      return undefined;
    case 'connected':
      return 'connected to the gateway';
    case 'submitted':
      return `✓ ${event.file}  ${event.submissionId}${event.replayed ? ' (replayed)' : ''} → ${event.insurers.join(', ') || 'no insurer'}`;
    case 'failed':
      return `✗ ${event.file}  ${event.reason}`;
    case 'waiting':
      return `gateway unavailable (${event.reason}); ${event.pending} file(s) pending; retrying in ${(event.delayMs / 1000).toFixed(1)} s`;
  }
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

export function registerWatchCommand(hospital: Command): void {
  hospital
    .command('watch')
    .description('daemon: submit every bundle the HIS drops into <folder>, move it to done/ or failed/, retry while the gateway is down')
    .argument('<folder>', 'the drop folder (the HIS renames finished *.json files into it)')
    .requiredOption('--identity <dir>', 'this hospital’s folder from `hdx keys init` (parties/<id>)', process.env.HDX_IDENTITY)
    .option('--gateway <host:port,…>', 'gateway address, or several replicas’ tried in order (default: from party.json)')
    .option('--state <dir>', 'the outbox and lock (default: <folder>/.hdx)')
    .option('--purpose <purpose>', `one of ${Object.keys(PURPOSE_BY_NAME).join(', ')}`, 'DIRECT_SETTLEMENT')
    .option('--concurrency <n>', 'submissions in flight', positiveInteger, 4)
    .option('--intake <file>', 'the exchange’s intake configuration: check each bundle against the full profile before sending')
    .option('--decisions <dir>', 'also receive settlement decisions into this folder for the HIS')
    .option('--rescan-seconds <n>', 'look at the folder this often besides file-system events', positiveInteger, 30)
    .action(async (folder: string, opts: { identity: string; gateway?: string; state?: string; purpose: string; concurrency: number; intake?: string; decisions?: string; rescanSeconds: number }) => {
      if (!(opts.purpose in PURPOSE_BY_NAME)) throw new InvalidArgumentError(`--purpose: one of ${Object.keys(PURPOSE_BY_NAME).join(', ')}`);
      const stateDir = opts.state ?? join(folder, '.hdx');
      makeFolders(stateDir);
      const lock = lockFolder(stateDir, 'hdx hospital watch');
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let following: Promise<unknown> | undefined;
      try {
        process.stdout.write(stamp(`watching ${folder}`));
        const summary = await watchDropFolder({
          dropDir: folder,
          stateDir,
          purpose: opts.purpose,
          concurrency: opts.concurrency,
          rescanMs: opts.rescanSeconds * 1000,
          check: localCheck({ purpose: opts.purpose, ...(opts.intake !== undefined && { intakePath: opts.intake }), hospitalId: loadPartyIdentity(opts.identity).party.id }),
          signal: stop.signal,
          openSession: () => openHospitalSession(opts.identity, opts.gateway, { forMs: 0 }),
          onEvent: (event) => {
            const line = lineOf(event);
            if (line !== undefined) (event.kind === 'waiting' ? process.stderr : process.stdout).write(stamp(line));
          },
          onSession: (session: HospitalSession) => {
            if (opts.decisions === undefined) return;
            following = followDecisions(session, {
              outDir: opts.decisions,
              follow: true,
              signal: stop.signal,
              onDecision: (e) => void process.stdout.write(stamp(e.ok ? `decision ${e.decision.decisionId} for ${e.decision.submissionId}` : `✗ decision ${e.decisionId} refused: ${e.reason}`)),
            }).catch((error: unknown) => process.stderr.write(stamp(`decisions stopped: ${describeError(error)}`)));
          },
        });
        await following;
        process.stdout.write(
          stamp(`stopped: ${summary.recorded} recorded, ${summary.submitted} submitted, ${summary.failed} failed, ${summary.pending} pending`),
        );
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        lock.release();
      }
    });
}
