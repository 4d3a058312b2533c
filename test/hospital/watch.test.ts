/**
 * The hospital daemon against a real gateway over mTLS: files dropped while the gateway is down wait in the
 * outbox and go once it is back (backoff on an injected clock, no sleeps); a file the gateway accepted just
 * before a crash (outbox not yet updated) is answered as a replay, not a second transfer; a stop in the
 * middle of a batch and a restart leave every file moved exactly once; what is not a bundle goes to failed/
 * with a reason that quotes nothing.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantConsent } from '../../hospital-adapter/consent.js';
import { openHospitalSession } from '../../hospital-adapter/session.js';
import type { Clock } from '../../hospital-adapter/watch/backoff.js';
import { watchDropFolder, type WatchEvent } from '../../hospital-adapter/watch/daemon.js';
import type { SyntheticRecord } from '../../synthetic/index.js';
import { recordMaker } from '../settlement/support.js';
import { createTestExchange, idem, startTestGateway, terms, waitFor, type TestExchange, type TestGateway } from '../support/harness.js';

let ex: TestExchange;
let gw: TestGateway | undefined;
let port: number;
const record = recordMaker(20261202);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = server.address() as { port: number };
      server.close(() => resolve(p));
    });
  });
}

/** A clock whose sleeps end when the test says so (or at once when their signal aborts). */
function manualClock(): Clock & { sleeping(): number; advance(): void } {
  let waiters: Array<() => void> = [];
  return {
    now: () => Date.now(),
    sleep: (_ms, signal) =>
      new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve();
        waiters.push(resolve);
        signal?.addEventListener('abort', () => resolve(), { once: true });
      }),
    sleeping: () => waiters.length,
    advance() {
      const woken = waiters;
      waiters = [];
      for (const wake of woken) wake();
    },
  };
}

const hospitalDir = () => ex.partyDir('nanshan-people');
const openSession = () => openHospitalSession(hospitalDir(), `localhost:${port}`);

async function consented(count: number): Promise<SyntheticRecord[]> {
  const session = await openSession();
  try {
    const records = Array.from({ length: count }, () => record('nanshan-people'));
    for (const r of records) {
      await grantConsent(session, {
        idempotencyKey: idem('grant'),
        patientNationalId: r.patient.nationalId,
        terms: terms({ insurerId: 'taikang-online', hospitalIds: ['nanshan-people'] }),
      });
    }
    return records;
  } finally {
    session.close();
  }
}

/** The HIS's way of dropping a file: written beside, renamed in. */
function drop(folder: string, name: string, content: string): void {
  writeFileSync(join(folder, `.${name}.tmp`), content);
  renameSync(join(folder, `.${name}.tmp`), join(folder, name));
}

const jsonFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json') && !f.includes('.receipt') && !f.includes('.reason')).sort() : []);

const transfersIn = async () => (await gw!.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM transfers'))!.n;

beforeAll(async () => {
  ex = await createTestExchange();
  port = await freePort();
  gw = await startTestGateway(ex, { listen: `127.0.0.1:${port}` });
});

afterAll(async () => {
  await gw?.stop().catch(() => undefined);
  ex?.cleanup();
});

describe('hdx hospital watch', () => {
  it('records files while the gateway is down, backs off, and submits them all once it is back', async () => {
    const records = await consented(4);
    await gw!.stop();
    gw = undefined;
    const folder = join(ex.root, 'drop-down');
    mkdirSync(folder);
    records.forEach((r, i) => drop(folder, `stay-${i}.json`, JSON.stringify(r.bundle)));
    drop(folder, 'notes.json', JSON.stringify({ resourceType: 'Patient', name: [{ text: '王秀英' }] }));

    const clock = manualClock();
    const events: WatchEvent[] = [];
    const stop = new AbortController();
    const daemon = watchDropFolder({ dropDir: folder, openSession, signal: stop.signal, clock, onEvent: (e) => void events.push(e) });
    const waiting = () => events.filter((e) => e.kind === 'waiting').length;
    await waitFor(() => waiting() === 1 && clock.sleeping() > 0, 30_000);
    clock.advance(); // the backoff ends; the gateway is still down
    await waitFor(() => waiting() === 2 && clock.sleeping() > 0, 30_000);
    const waits = events.filter((e): e is Extract<WatchEvent, { kind: 'waiting' }> => e.kind === 'waiting');
    expect(waits[1]!.delayMs).toBeGreaterThan(waits[0]!.delayMs / 2); // grows (with jitter), never zero
    expect(jsonFiles(join(folder, 'done'))).toEqual([]);
    expect(events.filter((e) => e.kind === 'recorded')).toHaveLength(5);

    gw = await startTestGateway(ex, { listen: `127.0.0.1:${port}` });
    clock.advance();
    await waitFor(() => jsonFiles(join(folder, 'done')).length === 4 && jsonFiles(join(folder, 'failed')).length === 1, 30_000);
    stop.abort();
    clock.advance();
    const summary = await daemon;
    expect(summary).toEqual({ recorded: 5, submitted: 4, failed: 1, pending: 0 });
    expect(jsonFiles(folder)).toEqual([]);
    const receipt = JSON.parse(readFileSync(join(folder, 'done', 'stay-0.json.receipt.json'), 'utf8'));
    expect(receipt.transfers).toHaveLength(1);
    const reason = readFileSync(join(folder, 'failed', 'notes.json.reason.json'), 'utf8');
    expect(reason).toMatch(/expected a FHIR Bundle/);
    expect(reason).not.toContain('王秀英');
    expect(readFileSync(join(folder, '.hdx', 'outbox.db')).includes(Buffer.from('王秀英'))).toBe(false);
  }, 90_000);

  it('a file accepted just before a crash (outbox still pending) is sent again as a replay: one transfer', async () => {
    const [r] = await consented(1);
    const folder = join(ex.root, 'drop-crash');
    mkdirSync(folder);
    drop(folder, 'stay.json', JSON.stringify(r!.bundle));
    const run = async () => {
      const stop = new AbortController();
      const events: WatchEvent[] = [];
      const daemon = watchDropFolder({ dropDir: folder, openSession, signal: stop.signal, clock: manualClock(), onEvent: (e) => void events.push(e) });
      await waitFor(() => events.some((e) => e.kind === 'submitted'), 30_000);
      stop.abort();
      await daemon;
      return events.find((e): e is Extract<WatchEvent, { kind: 'submitted' }> => e.kind === 'submitted')!;
    };
    const before = (await transfersIn());
    const first = await run();
    expect(first.replayed).toBe(false);
    // The crash: the gateway has the submission, the outbox and the folder do not show it yet.
    renameSync(join(folder, 'done', 'stay.json'), join(folder, 'stay.json'));
    const outbox = new Database(join(folder, '.hdx', 'outbox.db'));
    outbox.prepare("UPDATE files SET state = 'pending', moved = 0, submission_id = NULL").run();
    outbox.close();
    const again = await run();
    expect(again.replayed).toBe(true);
    expect(again.submissionId).toBe(first.submissionId);
    expect((await transfersIn()) - before).toBe(1);
  }, 90_000);

  it('stopped in the middle of a batch and started again: every file moved once, none sent twice', async () => {
    const records = await consented(8);
    const folder = join(ex.root, 'drop-restart');
    mkdirSync(folder);
    records.forEach((r, i) => drop(folder, `stay-${i}.json`, JSON.stringify(r.bundle)));
    const before = (await transfersIn());
    const submitted: Array<Extract<WatchEvent, { kind: 'submitted' }>> = [];
    const stop = new AbortController();
    const first = watchDropFolder({
      dropDir: folder, openSession, signal: stop.signal, clock: manualClock(), concurrency: 2,
      onEvent: (e) => {
        if (e.kind !== 'submitted') return;
        submitted.push(e);
        if (submitted.length === 3) stop.abort();
      },
    });
    const summary = await first;
    expect(summary.submitted).toBeGreaterThanOrEqual(3);
    expect(summary.pending).toBe(8 - summary.submitted);

    const stop2 = new AbortController();
    const second = watchDropFolder({
      dropDir: folder, openSession, signal: stop2.signal, clock: manualClock(),
      onEvent: (e) => {
        if (e.kind === 'submitted') submitted.push(e);
        if (submitted.length === 8) stop2.abort();
      },
    });
    await second;
    expect(jsonFiles(join(folder, 'done'))).toHaveLength(8);
    expect(jsonFiles(folder)).toEqual([]);
    expect(submitted.filter((e) => e.replayed)).toEqual([]);
    expect(new Set(submitted.map((e) => e.submissionId)).size).toBe(8);
    expect((await transfersIn()) - before).toBe(8);
  }, 90_000);
});
