/**
 * The regulator's console in real Chromium against a live gateway with traffic: every page loads, its
 * figures match what `hdx audit sla` and `hdx audit query` print for the same log, a transfer's evidence
 * is checked, the patient search keeps the ID out of the address, the PDF report renders, and a log
 * rewritten by the operator is shown as failing on every page. A screenshot of each page is kept in
 * test-artifacts/console/.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, BrowserContext, Page } from '../../compliance/console/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsole, type RunningConsole } from '../../compliance/console/server.js';
import { createTestExchange, openSessions, startTestGateway, type Sessions, type TestExchange, type TestGateway } from '../support/harness.js';
import { runHdx } from '../support/cli.js';
import { rewriteLog } from '../audit/tamper.js';
import { ARTIFACTS, browserAvailable, launchChromium, populateConsoleTraffic, testClock, type ConsoleTraffic } from './support.js';

const run = browserAvailable();

let ex: TestExchange;
let gw: TestGateway;
let s: Sessions;
let traffic: ConsoleTraffic;
let console_: RunningConsole;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const clock = testClock();

const regulatorDir = () => ex.partyDir('szdex');
const hdx = (args: string[]) => runHdx([...args, '--identity', regulatorDir(), '--gateway', gw.address]);

beforeAll(async () => {
  if (!run) return;
  ex = await createTestExchange();
  gw = await startTestGateway(ex, { clock: clock.now });
  s = await openSessions(ex, gw);
  traffic = await populateConsoleTraffic(ex, s, clock);
  console_ = await startConsole({
    session: s.regulator,
    statePath: join(ex.root, 'officer-state.json'),
    registryPath: join(ex.summary.dir, 'registry.json'),
    clock: clock.now,
    timeZone: 'UTC',
  });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(0);
  await page.goto(console_.loginUrl);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await console_?.close();
  s?.closeAll();
  await gw?.stop();
  ex?.cleanup();
});

/** The text of a PDF file, by poppler's pdftotext. */
const pdfText = (file: string) => execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const cells = (selector: string) => page.locator(selector).evaluateAll((rows) => rows.map((r) => Array.from(r.querySelectorAll('td'), (td) => td.textContent?.trim() ?? '')));

describe.runIf(run)('the console in Chromium', () => {
  it('signs in with the one-time link, which leaves the address at once and cannot be used again', async () => {
    expect(new URL(page.url()).pathname).toBe('/');
    expect(page.url()).not.toContain('secret');
    const second = await (await browser.newContext()).newPage();
    second.setDefaultTimeout(0);
    const response = await second.goto(console_.loginUrl);
    expect(response?.status()).toBe(403);
  });

  it('overview: log size and today’s counts per party match `hdx audit query`', async () => {
    await page.goto(`${console_.origin}/`);
    await expect(page.locator('#verification').getAttribute('data-state')).resolves.toBe('verified');
    await shot('overview');
    const size = Number(await page.locator('#log-size b').textContent());
    expect(size).toBeGreaterThan(20);
    const rows = await cells('#today tbody tr');
    const row = (id: string, role: string) => rows.find((r) => r[0] === id && r[1] === role)!;
    const count = async (action: string, party?: string) => {
      const since = new Date(clock.start - 60_000);
      const result = await hdx(['audit', 'query', '--action', action, '--since', since.toISOString(), ...(party ? ['--party', party] : []), '--json']);
      expect(result.code, result.stderr).toBe(0);
      return result.stdout.split('\n').filter(Boolean).length;
    };
    expect(Number(row('taikang-online', 'insurer')[2])).toBe(await count('transfer.create', 'taikang-online'));
    expect(Number(row('pingan-health', 'insurer')[2])).toBe(await count('transfer.create', 'pingan-health'));
    expect(Number(row('nanshan-people', 'hospital')[3])).toBe(await count('record.deny'));
    expect(Number(row('pingan-health', 'insurer')[4])).toBe(await count('transfer.withhold'));
    expect(Number(row('taikang-online', 'insurer')[5])).toBe(await count('decision.record', 'taikang-online'));
    expect(row('taikang-online', 'insurer').slice(2)).toEqual(['4', '0', '0', '3']);
  });

  it('charts: service levels and the overdue list match `hdx audit sla`, figure for figure', async () => {
    await page.goto(`${console_.origin}/charts`);
    await shot('charts');
    expect(await page.locator('svg.chart').count()).toBe(3);
    const result = await hdx(['audit', 'sla', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const sla = JSON.parse(result.stdout) as { levels: Array<{ insurerId: string; window: string; submitted: number; decided: number; medianSeconds: number; p95Seconds: number }>; overdue: Array<{ transferId: string }> };
    const rows = await cells('#service-levels tbody tr');
    expect(rows.map((r) => r.slice(0, 5))).toEqual(sla.levels.map((l) => [l.insurerId, l.window, '60 s', String(l.submitted), String(l.decided)]));
    const { formatSeconds } = await import('../../compliance/service-levels.js');
    expect(rows.map((r) => [r[5], r[6]])).toEqual(sla.levels.map((l) => [formatSeconds(l.medianSeconds), formatSeconds(l.p95Seconds)]));
    for (const r of rows) expect(r[7]).toContain('agrees with the log');
    // taikang: 10, 20, 70 s → median 20 s, p95 70 s; one undecided past 60 s.
    expect(rows.find((r) => r[0] === 'taikang-online')!.slice(5, 7)).toEqual(['20 s', '70 s']);
    const overdue = await cells('#overdue tbody tr');
    expect(overdue.map((r) => r[0])).toEqual(sla.overdue.map((o) => o.transferId));
    expect(overdue.map((r) => r[0])).toEqual([traffic.overdueTransfer]);
    const denials = await cells('#denials tbody tr');
    expect(denials).toEqual([['record: no-consent', '1']]);
  });

  it('who received this patient’s data: answered from verified events, the ID nowhere in the address or storage', async () => {
    await page.goto(`${console_.origin}/patient`);
    await page.locator('#patient-id').focus();
    await page.keyboard.type(traffic.receivedPatient);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#recipients');
    await shot('patient');
    expect(await page.locator('#recipients li').allTextContents()).toEqual(['taikang-online']);
    expect(await page.locator('#unverified').count()).toBe(0);
    expect(page.url()).toBe(`${console_.origin}/patient`);
    expect(await page.content()).not.toContain(traffic.receivedPatient);
    // Evaluated in the page (a string: this project's TypeScript has no DOM types).
    const stored = await page.evaluate('JSON.stringify({ l: { ...localStorage }, s: { ...sessionStorage }, c: document.cookie, h: history.length })');
    expect(String(stored)).not.toContain(traffic.receivedPatient);
    expect(gw.logs.join('')).not.toContain(traffic.receivedPatient);
    // The CLI's answer for the same patient: the same transfer.create events.
    const idFile = join(ex.root, 'patient-id');
    (await import('node:fs')).writeFileSync(idFile, traffic.receivedPatient);
    const cli = await hdx(['audit', 'query', '--patient-id-file', idFile, '--action', 'transfer.create', '--json']);
    const cliInsurers = cli.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { parties: string[] }).parties[1]);
    expect(cliInsurers).toEqual(['taikang-online']);

    await page.locator('#patient-id').fill(traffic.deniedPatient);
    await page.locator('button.primary').click();
    await page.waitForSelector('#recipients-none');
  });

  it('a transfer with its evidence: three hop signatures and the inclusion proofs, checked', async () => {
    await page.goto(`${console_.origin}/transfers`);
    await shot('transfers');
    await page.locator('#transfers a', { hasText: traffic.decidedTransfer }).click();
    await page.waitForSelector('#evidence-state');
    await shot('transfer');
    expect(await page.locator('#evidence-state').getAttribute('data-ok')).toBe('true');
    expect(await page.locator('#transfer-id').textContent()).toBe(traffic.decidedTransfer);
    const hops = await cells('#hops tbody tr');
    expect(hops.map((h) => h[2])).toEqual(['✓', '✓', '✓']);
    expect(hops.every((h) => /ES256|EdDSA/.test(h[1]!))).toBe(true);
    expect(new URL(page.url()).search).toMatch(/^\?seq=\d+$/);
  });

  it('a consent’s history, from grant to decision', async () => {
    await page.goto(`${console_.origin}/consents`);
    await page.locator('#consents a', { hasText: traffic.consentId }).click();
    await page.waitForSelector('#consent-id');
    await shot('consent');
    const actions = (await cells('#events tbody tr')).map((r) => r[2]);
    expect(actions[0]).toBe('consent.grant');
    expect(actions).toEqual(expect.arrayContaining(['transfer.create', 'transfer.deliver', 'transfer.acknowledge', 'decision.record']));
  });

  it('exports: JSON Lines exactly as `hdx audit export`, CSV and FHIR AuditEvent of the same events', async () => {
    await page.goto(`${console_.origin}/exports`);
    await shot('exports');
    // The page may fetch nothing (CSP connect-src 'none'): download with the browser context's cookie.
    const fetchText = async (path: string) => (await page.request.get(`${console_.origin}${path}`, { timeout: 0 })).text();
    const jsonl = await fetchText('/export/events.jsonl');
    const lines = jsonl.split('\n').filter(Boolean);
    const cli = await hdx(['audit', 'export', '--format', 'jsonl']);
    expect(cli.code, cli.stderr).toBe(0);
    // The CLI exports the log as it is now (it grew by the console's own audited reads): ours is a prefix.
    expect(cli.stdout.startsWith(jsonl)).toBe(true);
    const csv = (await fetchText('/export/events.csv')).trim().split('\r\n');
    expect(csv.length).toBe(lines.length + 1);
    const fhir = (await fetchText('/export/audit-events.fhir.ndjson')).trim().split('\n').map((l) => JSON.parse(l) as { resourceType: string });
    expect(fhir.length).toBe(lines.length);
    expect(fhir.every((r) => r.resourceType === 'AuditEvent')).toBe(true);
  });

  it('the monthly report, in HTML and as a PDF printed by Chromium', async () => {
    const month = new Date(clock.now()).toISOString().slice(0, 7);
    await page.goto(`${console_.origin}/report`);
    await page.locator('button[value=html]').click();
    await page.waitForSelector('#report-month');
    await shot('report');
    expect(await page.locator('#report-month').textContent()).toBe(month);
    const totals = await cells('#report-totals tbody tr');
    expect(totals.find((r) => r[0] === 'taikang-online')!.slice(2)).toEqual(['4', '0', '0', '3']);
    const response = await page.request.get(`${console_.origin}/report/view?month=${month}&format=pdf`, { timeout: 0 });
    expect(response.headers()['content-type']).toBe('application/pdf');
    const bytes = await response.body();
    (await import('node:fs')).writeFileSync(join(ARTIFACTS, 'report.pdf'), bytes);
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(Number(/\/Count (\d+)/.exec(bytes.toString('latin1'))?.[1] ?? 0)).toBeGreaterThanOrEqual(1);
    // Its text, read back by poppler's pdftotext (installed with chromium by .ci/run).
    const text = pdfText(join(ARTIFACTS, 'report.pdf'));
    expect(text).toContain('Audit report of the data exchange');
    expect(text).toContain(month);
    expect(text).toContain('taikang-online');
    expect(text).toContain('Submit → decision');
  });

  it('switches to Chinese and back with the keyboard', async () => {
    await page.goto(`${console_.origin}/`);
    await page.locator('form[action="/lang"] button').focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('html[lang="zh-CN"]');
    expect(await page.locator('header h1').textContent()).toBe('hdx 监管控制台');
    await shot('overview-zh');
    // The report follows the language, in the PDF too (CJK fonts: .ci/run installs fonts-noto-cjk).
    const month = new Date(clock.now()).toISOString().slice(0, 7);
    const pdf = await page.request.get(`${console_.origin}/report/view?month=${month}&format=pdf`, { timeout: 0 });
    (await import('node:fs')).writeFileSync(join(ARTIFACTS, 'report-zh.pdf'), await pdf.body());
    expect(pdfText(join(ARTIFACTS, 'report-zh.pdf'))).toContain('数据交换审计报告');
    await page.locator('form[action="/lang"] button').click();
    await page.waitForSelector('html[lang="en"]');
  });

  it('a log the operator rewrote is shown as failing, on every page', async () => {
    // The operator deletes one denial and re-signs the new history; the officer's saved checkpoint catches it.
    await gw.stop();
    const db = new Database(join(ex.summary.gateway.dir, 'gateway.db'));
    rewriteLog(db, (events) => events.filter((e) => e.action !== 'record.deny'));
    db.close();
    gw = await startTestGateway(ex, { clock: clock.now, listen: gw.address.replace('localhost', '127.0.0.1') });
    await page.goto(`${console_.origin}/`);
    await page.locator('form[action="/refresh"] button').click();
    await page.waitForSelector('#verification[data-state="failing"]');
    await shot('failing');
    expect(await page.locator('#verification').textContent()).toMatch(/FAILED VERIFICATION[\s\S]*consistency with the saved checkpoint/);
    for (const path of ['/', '/charts', '/patient', '/transfers', '/consents', '/exports', '/report']) {
      await page.goto(`${console_.origin}${path}`);
      expect(await page.locator('#verification').getAttribute('data-state'), path).toBe('failing');
      expect(await page.locator('#no-figures').count(), path).toBe(1);
      expect(await page.locator('main table').count(), path).toBe(0);
    }
    expect(readFileSync(join(ex.root, 'officer-state.json'), 'utf8')).toContain('"treeSize"');
  });
});
