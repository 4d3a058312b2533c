/**
 * `npm run test:crash [-- --kills 20]`: a real gateway process (a child, `hdx gateway serve`) killed with
 * SIGKILL again and again while a real hospital adapter submits (consent + record) and a real insurer
 * adapter follows and stores transfers. Afterwards: every submission the gateway acknowledged must be in
 * its database exactly once, every transfer of it stored by the insurer, and the audit log must verify.
 * Prints kills, acknowledged, found, lost, duplicates, audit verified; exits 1 on any loss, duplicate or
 * verification failure.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { verifyLog } from '../../compliance/verify.js';
import { openComplianceSession } from '../../compliance/session.js';
import { openHospitalSession } from '../../hospital-adapter/session.js';
import { pullTransfers } from '../../insurer-adapter/pull.js';
import { openInsurerSession } from '../../insurer-adapter/session.js';
import { crashExchange, numericFlag, sleep } from '../support/crash-exchange.js';
import { stopProcess } from '../support/gateway-process.js';
import { startSubmitting } from '../support/submit-load.js';

const KILLS = numericFlag('--kills', 20);
const SUBMITTERS = 4;
const root = mkdtempSync(join(tmpdir(), 'hdx-crash-'));
const kill = stopProcess;

async function main(): Promise<number> {
  const exchange = await crashExchange(root);
  const { gatewayDir, partyDir, address } = exchange;
  let child = await exchange.startGateway();

  const hospital = await openHospitalSession(partyDir('nanshan-people'), address);
  const insurer = await openInsurerSession(partyDir('taikang-online'), address);
  // Load: submitters grant a consent and submit its record, over and over, until told to stop.
  const load = startSubmitting(hospital, { submitters: SUBMITTERS, seed: 20261202 });
  const { acknowledged, notAcknowledged: failures } = load;

  const stored = new Set<string>();
  const pullAbort = new AbortController();
  let reconnects = 0;
  const pulling = pullTransfers(insurer, {
    outDir: join(root, 'inbox'),
    follow: true,
    concurrency: 4,
    signal: pullAbort.signal,
    // Stored on disk counts (an acknowledgement that landed but whose answer was lost is not offered again).
    onOutcome: (o) => void (o.ok && stored.add(o.transferId)),
    onReconnect: () => void (reconnects += 1),
  });

  let kills = 0;
  for (let i = 0; i < KILLS; i++) {
    // Kill under load: once the new process has acknowledged a few submissions (or 15 s passed), at a random moment.
    const before = acknowledged.size;
    const until = Date.now() + 15_000;
    while (acknowledged.size < before + 3 && Date.now() < until) await sleep(20);
    await sleep(Math.random() * 400);
    await kill(child, 'SIGKILL');
    kills += 1;
    process.stdout.write(`kill ${kills}/${KILLS}: ${acknowledged.size} acknowledged so far\n`);
    child = await exchange.startGateway();
  }
  await load.stop();

  // Everything acknowledged must reach the insurer (unacknowledged leases come back after 2 s).
  const expected = [...acknowledged.values()].flat();
  const drainUntil = Date.now() + 120_000;
  while (expected.some((t) => !stored.has(t)) && Date.now() < drainUntil) await sleep(200);
  pullAbort.abort();
  await pulling;

  const officer = openComplianceSession(partyDir('szdex'), { address });
  const report = await verifyLog(officer, { statePath: join(root, 'officer-state.json'), full: true });
  officer.close();
  hospital.close();
  insurer.close();
  await kill(child, 'SIGTERM');

  const db = new Database(join(gatewayDir, 'gateway.db'), { readonly: true });
  const has = db.prepare('SELECT 1 FROM submissions WHERE submission_id = ?');
  const found = [...acknowledged.keys()].filter((id) => has.get(id)).length;
  const duplicateSubmissions = (db.prepare('SELECT COUNT(*) AS n FROM (SELECT bundle_digest FROM submissions GROUP BY bundle_digest HAVING COUNT(*) > 1)').get() as { n: number }).n;
  const duplicateTransfers = (db.prepare('SELECT COUNT(*) AS n FROM (SELECT submission_id FROM transfers GROUP BY submission_id, insurer_id HAVING COUNT(*) > 1)').get() as { n: number }).n;
  db.close();
  const lost = acknowledged.size - found;
  const undelivered = expected.filter((t) => !stored.has(t)).length;
  const duplicates = duplicateSubmissions + duplicateTransfers;

  process.stdout.write(
    [
      '',
      `kills              ${kills}`,
      `acknowledged       ${acknowledged.size} submissions (${expected.length} transfers)`,
      `found              ${found}`,
      `lost               ${lost}`,
      `duplicates         ${duplicates} (submissions ${duplicateSubmissions}, transfers ${duplicateTransfers})`,
      `insurer stored     ${expected.length - undelivered} of ${expected.length} (reconnects ${reconnects})`,
      `not acknowledged   ${[...failures].map(([k, n]) => `${k} ×${n}`).join(', ') || 'none'}`,
      `audit verified     ${report.ok ? `yes (${report.treeSize} events)` : `NO — ${report.failure}`}`,
      '',
    ].join('\n'),
  );
  return lost === 0 && duplicates === 0 && undelivered === 0 && report.ok && kills >= KILLS ? 0 : 1;
}

main()
  .then((code) => (process.exitCode = code))
  .catch((error: unknown) => {
    process.stderr.write(`crash test failed: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => rmSync(root, { recursive: true, force: true }));
