/**
 * The long-running commands as services, each a real `hdx` process (bin/hdx.js → dist/): SIGTERM finishes
 * and exits 0 with a summary; a second process on the same folder is refused; a SIGKILLed gateway's lock
 * does not block its restart; a follower started before its gateway waits for it. Seal workers run (from
 * dist/), and the insurer decides with a TypeScript rules module.
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHospitalSession } from '../../hospital-adapter/session.js';
import { startHdx, runHdx, type HdxProcess } from '../support/cli.js';
import { createTestExchange, type TestExchange } from '../support/harness.js';
import { consentAndSubmit, recordMaker } from '../settlement/support.js';

let ex: TestExchange;
const running: HdxProcess[] = [];
const record = recordMaker(20261202);
const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;

function hdx(args: string[]): HdxProcess {
  const p = startHdx(args);
  running.push(p);
  return p;
}

async function serveGateway(listen = '127.0.0.1:0'): Promise<{ gw: HdxProcess; port: number }> {
  const gw = hdx(['gateway', 'serve', '--data', ex.summary.gateway.dir, '--listen', listen, '--seal-workers', '1']);
  const port = Number((await gw.waitFor(/listening on port (\d+)/))[1]);
  return { gw, port };
}

async function sigterm(p: HdxProcess) {
  p.child.kill('SIGTERM');
  return p.exited;
}

beforeAll(async () => {
  ex = await createTestExchange();
});

afterAll(async () => {
  for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(running.map((p) => p.exited));
  ex?.cleanup();
});

describe('hdx services', () => {
  it('gateway, insurer pull --follow and hospital decisions --follow: one per folder, SIGTERM exits 0 with a summary', async () => {
    const { gw, port } = await serveGateway();
    const address = `localhost:${port}`;
    const twin = await runHdx(['gateway', 'serve', '--data', ex.summary.gateway.dir, '--listen', '127.0.0.1:0']);
    expect(twin.code).toBe(1);
    expect(twin.stderr).toContain(`hdx: ${ex.summary.gateway.dir} is in use by another process (hdx gateway serve, pid ${gw.child.pid}, since `);

    const inbox = join(ex.root, 'inbox');
    const pull = hdx(['insurer', 'pull', '--identity', ex.partyDir('taikang-online'), '--gateway', address, '--out', inbox, '--follow', '--adjudicate', 'insurer-adapter/rules/example-rules.ts']);
    const his = join(ex.root, 'his');
    const desk = hdx(['hospital', 'decisions', '--identity', ex.partyDir('nanshan-people'), '--gateway', address, '--out', his, '--follow']);
    await Promise.all([pull.waitFor(/connected to the gateway/), desk.waitFor(/connected to the gateway/)]);
    const pullTwin = await runHdx(['insurer', 'pull', '--identity', ex.partyDir('taikang-online'), '--gateway', address, '--out', inbox]);
    expect(pullTwin.code).toBe(1);
    expect(pullTwin.stderr).toContain(`hdx: ${inbox} is in use by another process (hdx insurer pull, pid ${pull.child.pid}`);
    const deskTwin = await runHdx(['hospital', 'decisions', '--identity', ex.partyDir('nanshan-people'), '--gateway', address, '--out', his]);
    expect(deskTwin.code).toBe(1);
    expect(deskTwin.stderr).toContain(`hdx: ${his} is in use by another process (hdx hospital decisions, pid ${desk.child.pid}`);

    const hospital = await openHospitalSession(ex.partyDir('nanshan-people'), address);
    const submitted = await consentAndSubmit(hospital, record('nanshan-people'), 'taikang-online');
    hospital.close();
    const transferId = submitted.transfers[0]!.transferId;
    await pull.waitFor(new RegExp(`⇒ ${transferId} `));
    await desk.waitFor(new RegExp(`✓ ${submitted.submissionId} `));

    const pulled = await sigterm(pull);
    expect(pulled).toMatchObject({ code: 0, signal: null });
    expect(pulled.stdout.split('\n').filter(Boolean).every((line) => STAMP.test(line))).toBe(true);
    expect(pulled.stderr).toMatch(/Z hdx insurer pull stopped \(SIGTERM\): 1 received, 0 refused, 1 decided, 0 not decided\n$/);
    const desked = await sigterm(desk);
    expect(desked).toMatchObject({ code: 0, signal: null });
    expect(desked.stdout).toMatch(new RegExp(`${STAMP.source}✓ ${submitted.submissionId} `, 'm'));
    expect(desked.stderr).toMatch(/Z hdx hospital decisions stopped \(SIGTERM\): 1 decision\(s\) received, 0 refused; cursor \d+\n$/);
    const served = await sigterm(gw);
    expect(served).toMatchObject({ code: 0, signal: null });
    // The summary is printed once; a call that was still finishing may log its line after it.
    expect(served.stderr).toMatch(/Z hdx gateway serve stopped \(SIGTERM\): served \d+ s; audit log \d+ → \d+ events$/m);
  });

  it('a SIGKILLed gateway leaves no lock behind: the next one starts on the same folder', async () => {
    const first = await serveGateway();
    first.gw.child.kill('SIGKILL');
    expect((await first.gw.exited).signal).toBe('SIGKILL');
    const second = await serveGateway();
    expect((await sigterm(second.gw)).code).toBe(0);
  });

  it('a follower started before its gateway retries the first connection, and stops cleanly while waiting', async () => {
    const port = await freePort();
    const early = hdx(['insurer', 'pull', '--identity', ex.partyDir('taikang-online'), '--gateway', `localhost:${port}`, '--out', join(ex.root, 'inbox-early'), '--follow']);
    await early.waitFor(/gateway unreachable \(UNAVAILABLE: .*\); trying again in/);
    const { gw } = await serveGateway(`127.0.0.1:${port}`);
    await early.waitFor(/connected to the gateway/);
    expect((await sigterm(early)).code).toBe(0);

    const waiting = hdx(['hospital', 'decisions', '--identity', ex.partyDir('nanshan-people'), '--gateway', `localhost:${await freePort()}`, '--out', join(ex.root, 'his-early'), '--follow']);
    await waiting.waitFor(/gateway unreachable/);
    const stopped = await sigterm(waiting);
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).toMatch(/hdx hospital decisions stopped \(SIGTERM\): stopped before the gateway was reached\n$/);
    await sigterm(gw);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
