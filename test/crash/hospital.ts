/**
 * `npm run test:crash:hospital [-- --kills 10 --records 300]`: the hospital adapter killed with SIGKILL
 * again and again while it works. A real gateway process runs throughout, and a real insurer adapter
 * (in this process) pulls and decides every transfer; the hospital is a real `hdx hospital watch` child
 * (drop folder → submissions, decisions followed into --decisions) killed at random moments once it has
 * made progress since its restart, then started again. Every record is dropped before the first start.
 * Afterwards every record must be submitted exactly once (the gateway holds one submission per bundle,
 * every file is in done/ with a receipt naming a distinct submission) and every decision recorded exactly
 * once (one decisions/<cursor>.json per decision the gateway holds, each stay's settlement names its
 * decision, the cursor log reached the last cursor). Exits 1 otherwise.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { grantConsent } from '../../hospital-adapter/consent.js';
import { readCursor } from '../../hospital-adapter/cursor-log.js';
import { openHospitalSession } from '../../hospital-adapter/session.js';
import type { StaySettlement } from '../../hospital-adapter/settlement.js';
import { pullAndDecide } from '../../insurer-adapter/pull-and-decide.js';
import { adjudicate } from '../../insurer-adapter/rules/example-rules.js';
import { openInsurerSession } from '../../insurer-adapter/session.js';
import { createGenerator } from '../../synthetic/index.js';
import { crashExchange, numericFlag, sleep } from '../support/crash-exchange.js';
import { startHdxProcess, stopProcess } from '../support/gateway-process.js';
import { terms } from '../support/harness.js';

const KILLS = numericFlag('--kills', 10);
const RECORDS = numericFlag('--records', 300);
const root = mkdtempSync(join(tmpdir(), 'hdx-crash-hospital-'));
const drop = join(root, 'drop');
const decisionsDir = join(root, 'his');

const doneFiles = () => readdirSync(join(drop, 'done')).filter((n) => n.endsWith('.json') && !n.endsWith('.receipt.json'));
const decisionFiles = () => readdirSync(join(decisionsDir, 'decisions')).filter((n) => n.endsWith('.json'));
const progress = () => {
  try {
    return doneFiles().length + decisionFiles().length;
  } catch {
    return 0; // not created yet
  }
};

async function main(): Promise<number> {
  const exchange = await crashExchange(root);
  const { gatewayDir, partyDir, address } = exchange;
  const gateway = await exchange.startGateway();

  // Consents first (in this process), then every record into the drop folder as the HIS does: whole files renamed in.
  const hospital = await openHospitalSession(partyDir('nanshan-people'), address);
  const generator = createGenerator(20261203);
  mkdirSync(drop, { recursive: true });
  for (let i = 0; i < RECORDS; i++) {
    const record = generator.dischargeRecord({ hospitalId: 'nanshan-people', dischargeDate: new Date(Date.now() - 86_400_000) });
    await grantConsent(hospital, {
      idempotencyKey: `grant-${record.patient.nationalId}`,
      patientNationalId: record.patient.nationalId,
      terms: terms({ insurerId: 'taikang-online' }),
    });
    const name = `${String(i).padStart(5, '0')}.json`;
    writeFileSync(join(drop, `${name}.tmp`), JSON.stringify(record.bundle));
    renameSync(join(drop, `${name}.tmp`), join(drop, name));
  }
  hospital.close();

  const insurer = await openInsurerSession(partyDir('taikang-online'), address);
  const insurerAbort = new AbortController();
  const deciding = pullAndDecide(insurer, { outDir: join(root, 'insurer'), follow: true, rules: adjudicate, signal: insurerAbort.signal });

  const startHospital = () =>
    startHdxProcess(
      ['hospital', 'watch', drop, '--identity', partyDir('nanshan-people'), '--gateway', address, '--decisions', decisionsDir, '--rescan-seconds', '1'],
      'watching',
    );
  let child: ChildProcess = await startHospital();
  let kills = 0;
  for (let i = 0; i < KILLS; i++) {
    // Kill while it works: once it has moved a few files or written a few decisions since it started (or 15 s passed).
    const before = progress();
    const until = Date.now() + 15_000;
    while (progress() < before + 3 && Date.now() < until) await sleep(20);
    await sleep(Math.random() * 400);
    await stopProcess(child, 'SIGKILL');
    kills += 1;
    process.stdout.write(`kill ${kills}/${KILLS}: ${doneFiles().length} of ${RECORDS} files done, ${progress() - doneFiles().length} decisions written\n`);
    child = await startHospital();
  }

  // The last run finishes the work: every file done and every decision written, or 180 s.
  const drainUntil = Date.now() + 180_000;
  while ((doneFiles().length < RECORDS || decisionFiles().length < RECORDS) && Date.now() < drainUntil) await sleep(200);
  await stopProcess(child, 'SIGTERM');
  insurerAbort.abort();
  await deciding;
  insurer.close();
  await stopProcess(gateway, 'SIGTERM');

  const db = new Database(join(gatewayDir, 'gateway.db'), { readonly: true });
  const submissions = db.prepare('SELECT submission_id AS id, bundle_digest AS digest FROM submissions').all() as Array<{ id: string; digest: string }>;
  const decisions = db
    .prepare(`SELECT cursor, decision_id AS decisionId, submission_id AS submissionId FROM decisions WHERE hospital_id = 'nanshan-people' ORDER BY cursor`)
    .all() as Array<{ cursor: number; decisionId: string; submissionId: string }>;
  db.close();

  // Submitted exactly once: one submission per bundle, each done file's receipt names a distinct one of them.
  const duplicateSubmissions = submissions.length - new Set(submissions.map((s) => s.digest)).size;
  const receipts = readdirSync(join(drop, 'done'))
    .filter((n) => n.endsWith('.receipt.json'))
    .map((n) => (JSON.parse(readFileSync(join(drop, 'done', n), 'utf8')) as { submissionId: string }).submissionId);
  const known = new Set(submissions.map((s) => s.id));
  const receiptsOk = receipts.length === RECORDS && new Set(receipts).size === RECORDS && receipts.every((id) => known.has(id));
  const left = readdirSync(drop).filter((n) => n.endsWith('.json')).length + readdirSync(join(drop, 'failed')).length;

  // Recorded exactly once: one decision file per gateway decision, under its cursor, naming it; each stay's
  // settlement holds its decision; the cursor log reached the last one.
  const written = new Map<string, number>();
  for (const name of decisionFiles()) {
    const d = JSON.parse(readFileSync(join(decisionsDir, 'decisions', name), 'utf8')) as { decisionId: string; cursor: number };
    if (name !== `${String(d.cursor).padStart(12, '0')}.json`) written.set(`misnamed ${name}`, 2);
    written.set(d.decisionId, (written.get(d.decisionId) ?? 0) + 1);
  }
  const duplicateDecisions = [...written.values()].filter((n) => n > 1).length;
  const missingDecisions = decisions.filter((d) => !written.has(d.decisionId)).length;
  const unsettled = decisions.filter((d) => {
    const settlement = JSON.parse(readFileSync(join(decisionsDir, 'settlements', `${d.submissionId}.json`), 'utf8')) as StaySettlement;
    return !Object.values(settlement.decisions).some((s) => s.decisionId === d.decisionId);
  }).length;
  const lastCursor = decisions.at(-1)?.cursor ?? 0;
  const cursor = readCursor(decisionsDir);
  const temps = [drop, join(drop, 'done'), join(decisionsDir, 'decisions'), join(decisionsDir, 'settlements')].flatMap((d) => readdirSync(d).filter((n) => n.includes('.tmp-'))).length;

  process.stdout.write(
    [
      '',
      `kills              ${kills}`,
      `records            ${RECORDS} dropped, ${receipts.length} done (${left} left or failed)`,
      `submissions        ${submissions.length} at the gateway (duplicates ${duplicateSubmissions}; receipts distinct and known: ${receiptsOk ? 'yes' : 'NO'})`,
      `decisions          ${decisions.length} at the gateway, ${written.size} written (missing ${missingDecisions}, duplicates ${duplicateDecisions}, not in their stay's settlement ${unsettled})`,
      `cursor             ${cursor} stored, last ${lastCursor}`,
      `temporary files    ${temps} left by the kills`,
      '',
    ].join('\n'),
  );
  const ok =
    kills >= KILLS &&
    submissions.length === RECORDS &&
    duplicateSubmissions === 0 &&
    receiptsOk &&
    left === 0 &&
    decisions.length === RECORDS &&
    written.size === RECORDS &&
    missingDecisions === 0 &&
    duplicateDecisions === 0 &&
    unsettled === 0 &&
    cursor === lastCursor;
  return ok ? 0 : 1;
}

main()
  .then((code) => (process.exitCode = code))
  .catch((error: unknown) => {
    process.stderr.write(`hospital crash test failed: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => rmSync(root, { recursive: true, force: true }));
