/**
 * `npm run test:crash:insurer [-- --kills 10]`: a real insurer adapter (`hdx insurer pull --follow
 * --adjudicate`, a child process) killed with SIGKILL again and again while it pulls, stores and decides,
 * against a real gateway (a child) that a real hospital adapter submits to. Afterwards every transfer the
 * gateway created must be stored in the inbox (bundle and claims whole) and decided exactly once: one
 * decision row at the gateway, the one token the inbox's journal kept. Exits 1 otherwise.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openHospitalSession } from '../../hospital-adapter/session.js';
import { readJournal } from '../../insurer-adapter/decision-journal.js';
import { crashExchange, numericFlag, sleep } from '../support/crash-exchange.js';
import { stopProcess } from '../support/gateway-process.js';
import { startSubmitting } from '../support/submit-load.js';

const KILLS = numericFlag('--kills', 10);
const root = mkdtempSync(join(tmpdir(), 'hdx-crash-insurer-'));
const inbox = join(root, 'inbox');
const REPO = join(import.meta.dirname, '../..');

/** `hdx insurer pull --follow --adjudicate`, counting the decisions it reports. */
function startInsurer(identity: string, address: string): { child: ChildProcess; decided: () => number } {
  const args = ['--import', 'tsx', join(REPO, 'cli/main.ts'), 'insurer', 'pull', '--identity', identity, '--gateway', address];
  args.push('--out', inbox, '--follow', '--json', '--concurrency', '8', '--adjudicate', join(REPO, 'insurer-adapter/rules/example-rules.ts'));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let decided = 0;
  let pending = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split('\n');
    pending = lines.pop()!;
    for (const line of lines) if (line.includes('"decisionId"')) decided += 1;
  });
  child.stderr!.resume();
  return { child, decided: () => decided };
}

async function main(): Promise<number> {
  const exchange = await crashExchange(root);
  const { gatewayDir, partyDir, address } = exchange;
  const gateway = await exchange.startGateway();
  mkdirSync(inbox, { recursive: true });

  const hospital = await openHospitalSession(partyDir('nanshan-people'), address);
  const load = startSubmitting(hospital, { submitters: 2, seed: 20261203 });
  let insurer = startInsurer(partyDir('taikang-online'), address);

  let kills = 0;
  for (let i = 0; i < KILLS; i++) {
    // Kill mid-work: once this process has decided a few (or 20 s passed), at a random moment after.
    const until = Date.now() + 20_000;
    while (insurer.decided() < 3 && Date.now() < until) await sleep(20);
    await sleep(Math.random() * 300);
    await stopProcess(insurer.child, 'SIGKILL');
    kills += 1;
    process.stdout.write(`kill ${kills}/${KILLS}: ${load.acknowledged.size} submissions acknowledged so far\n`);
    insurer = startInsurer(partyDir('taikang-online'), address);
  }
  await load.stop();
  hospital.close();

  // The last process finishes the rest: every transfer the gateway made must come to be decided.
  const db = new Database(join(gatewayDir, 'gateway.db'), { readonly: true });
  const transferIds = () => (db.prepare('SELECT transfer_id AS id FROM transfers').all() as Array<{ id: string }>).map((r) => r.id);
  const undecided = db.prepare("SELECT COUNT(*) AS n FROM transfers WHERE state <> 'decided'");
  const drainUntil = Date.now() + 120_000;
  while ((undecided.get() as { n: number }).n > 0 && Date.now() < drainUntil) await sleep(200);
  await stopProcess(insurer.child, 'SIGTERM');

  const all = transferIds();
  const decisionRows = new Map<string, string[]>();
  for (const r of db.prepare('SELECT transfer_id AS t, decision_id AS d FROM decisions').all() as Array<{ t: string; d: string }>) {
    decisionRows.set(r.t, [...(decisionRows.get(r.t) ?? []), r.d]);
  }
  const notDecided = (undecided.get() as { n: number }).n;
  db.close();
  await stopProcess(gateway, 'SIGTERM');

  const journal = readJournal(inbox);
  let notStored = 0;
  let decidedTwice = 0;
  let tokenMismatch = 0;
  for (const id of all) {
    if (!storedWhole(id)) notStored += 1;
    const rows = decisionRows.get(id) ?? [];
    if (rows.length > 1) decidedTwice += 1;
    if (rows.length === 1 && journal.signed.get(id)?.decisionId !== rows[0]) tokenMismatch += 1;
  }
  const notAcknowledged = [...load.notAcknowledged].map(([k, n]) => `${k} ×${n}`).join(', ') || 'none';
  process.stdout.write(
    [
      '',
      `kills              ${kills}`,
      `transfers          ${all.length} (from ${load.acknowledged.size} acknowledged submissions; not acknowledged: ${notAcknowledged})`,
      `not stored whole   ${notStored}`,
      `not decided        ${notDecided}`,
      `decided twice      ${decidedTwice}`,
      `journal ≠ gateway  ${tokenMismatch}`,
      '',
    ].join('\n'),
  );
  const ok = all.length > 0 && notStored === 0 && notDecided === 0 && decidedTwice === 0 && tokenMismatch === 0 && kills >= KILLS;
  return ok ? 0 : 1;
}

/** The transfer's bundle and claims are in the inbox, each whole JSON, the claims naming the transfer. */
function storedWhole(transferId: string): boolean {
  const bundle = join(inbox, `${transferId}.bundle.json`);
  const claims = join(inbox, `${transferId}.claims.json`);
  if (!existsSync(bundle) || !existsSync(claims)) return false;
  try {
    const b = JSON.parse(readFileSync(bundle, 'utf8')) as { resourceType?: string };
    const c = JSON.parse(readFileSync(claims, 'utf8')) as { jti?: string };
    return b.resourceType === 'Bundle' && c.jti === transferId;
  } catch {
    return false;
  }
}

main()
  .then((code) => (process.exitCode = code))
  .catch((error: unknown) => {
    process.stderr.write(`insurer crash test failed: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => rmSync(root, { recursive: true, force: true }));
