/**
 * `npm run test:failover [-- --rounds 3]`: three real gateway processes (`hdx gateway serve --postgres`) on
 * one throwaway PostgreSQL cluster under load from real adapters; each round SIGKILLs a replica that does
 * not lead, then the leader, and restarts both (test/support/failover.ts). Prints kills, acknowledged,
 * found, lost, duplicates, audit verified and leader changes; exits 1 on any loss, duplicate, verification
 * failure or a leader lease that did not move.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { runFailover } from '../support/failover.js';
import { startCluster } from '../support/postgres.js';

const argv = process.argv.slice(2);
const ROUNDS = Number(argv[argv.indexOf('--rounds') + 1] || 3) || 3;
const root = mkdtempSync(join(tmpdir(), 'hdx-failover-'));

async function main(): Promise<number> {
  const running = await startCluster();
  try {
    const { host, port, user } = running.cluster;
    const admin = new pg.Client({ host, port, user, database: 'postgres' });
    await admin.connect();
    await admin.query('CREATE DATABASE hdx_failover');
    await admin.end();
    const url = `postgresql://${user}@/hdx_failover?host=${encodeURIComponent(host)}&port=${port}`;
    const r = await runFailover({
      root,
      postgresUrl: url,
      rounds: ROUNDS,
      submitters: 4,
      progress: 5,
      patienceMs: 180_000,
      log: (line) => process.stdout.write(`${line}\n`),
    });
    const d = r.duplicates;
    const duplicates = d.submissions + d.transfers + d.deliveries + d.decisions + d.atHospital;
    const verified = r.after.ok && r.after.proved.some((p) => p.includes(`size ${r.before.treeSize} → ${r.after.treeSize} proved consistent`));
    process.stdout.write(
      [
        '',
        `kills              ${r.kills.followers + r.kills.leaders} (followers ${r.kills.followers}, leaders ${r.kills.leaders})`,
        `acknowledged       ${r.acknowledged} submissions (${r.transfers} transfers)`,
        `found              ${r.found}`,
        `lost               ${r.lost}`,
        `duplicates         ${duplicates} (submissions ${d.submissions}, transfers ${d.transfers}, deliveries ${d.deliveries}, decisions ${d.decisions}, at hospital ${d.atHospital})`,
        `insurer stored     ${r.delivered} of ${r.transfers} (offered again before the acknowledgement held: ${r.redelivered}), decided ${r.decided}, decisions at hospital ${r.atHospital} (reconnects insurer ${r.reconnects.insurer}, hospital ${r.reconnects.hospital})`,
        `not acknowledged   ${[...r.notAcknowledged].map(([k, n]) => `${k} ×${n}`).join(', ') || 'none'}`,
        `leader changes     ${r.leaderChanges} (checkpoints at the leaders' deaths ${r.checkpoints.atLeaderDeaths.join(', ')}; grew after each: ${r.checkpoints.grewAfter.every(Boolean) ? 'yes' : 'NO'})`,
        `audit verified     ${verified ? `yes (${r.after.treeSize} events, consistent with the officer's checkpoint at ${r.before.treeSize} saved before the kills)` : `NO — ${r.after.failure ?? 'not consistent with the saved checkpoint'}`}`,
        '',
      ].join('\n'),
    );
    const ok = r.lost === 0 && duplicates === 0 && r.delivered === r.transfers && r.atHospital === r.transfers && verified && r.leaderChanges === ROUNDS && r.checkpoints.final === r.checkpoints.events;
    return ok ? 0 : 1;
  } finally {
    await running.stop();
  }
}

main()
  .then((code) => (process.exitCode = code))
  .catch((error: unknown) => {
    process.stderr.write(`failover test failed: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => rmSync(root, { recursive: true, force: true }));
