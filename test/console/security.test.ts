/**
 * The console's front door over plain HTTP, against `hdx audit console` run as an officer runs it: the
 * Host header (DNS rebinding), the one-time login, the cookie, CSRF and Origin on every POST, the
 * security headers, and no identifier in what the process prints.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGenerator } from '../../synthetic/index.js';
import { startHdx, type HdxProcess } from '../support/cli.js';
import { createTestExchange, startTestGateway, type TestExchange, type TestGateway } from '../support/harness.js';
import { csrfOf, httpCall } from './support.js';

let ex: TestExchange;
let gw: TestGateway;
let hdx: HdxProcess;
let origin: string;
let loginPath: string;
let port: number;

const call = (path: string, options: Parameters<typeof httpCall>[2] = {}) => httpCall(port, path, options);

let cookie = '';
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  call(path, { method: 'POST', body, headers: { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded', Origin: origin, ...headers } });

beforeAll(async () => {
  ex = await createTestExchange();
  gw = await startTestGateway(ex);
  hdx = startHdx(['audit', 'console', '--identity', ex.partyDir('szdex'), '--gateway', gw.address, '--port', '0']);
  const [, url] = (await hdx.waitFor(/^\s+(http:\/\/127\.0\.0\.1:\d+\/login\?secret=\S+)$/m)) as RegExpMatchArray;
  const parsed = new URL(url!);
  origin = parsed.origin;
  port = Number(parsed.port);
  loginPath = `${parsed.pathname}${parsed.search}`;
});

afterAll(async () => {
  hdx?.child.kill('SIGTERM');
  await hdx?.exited;
  await gw?.stop();
  ex?.cleanup();
});

describe('hdx audit console: the front door', () => {
  it('answers only to its own loopback name: another Host gets 421 (DNS rebinding)', async () => {
    expect((await call('/', { headers: { Host: `attacker.example:${port}` } })).status).toBe(421);
    expect((await call(loginPath, { headers: { Host: `attacker.example:${port}` } })).status).toBe(421);
    expect((await call('/', { headers: { Host: `127.0.0.1:${port + 1}` } })).status).toBe(421);
  });

  it('without the session cookie a page is refused with 401', async () => {
    const reply = await call('/');
    expect(reply.status).toBe(401);
    expect(reply.body).toMatch(/login link/);
    expect((await call('/export/events.jsonl')).status).toBe(401);
  });

  it('a wrong secret is refused; the right one becomes an HttpOnly SameSite=Strict cookie and a redirect, once', async () => {
    expect((await call('/login?secret=guess')).status).toBe(403);
    const reply = await call(loginPath);
    expect(reply.status).toBe(303);
    expect(reply.headers.location).toBe('/');
    const setCookie = String(reply.headers['set-cookie']);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    cookie = setCookie.split(';')[0]!;
    expect((await call(loginPath)).status).toBe(403);
    expect((await call('/', { headers: { Cookie: 'hdx_console=forged' } })).status).toBe(401);
  });

  it('pages carry a CSP that allows no script, and are not cached', async () => {
    const reply = await call('/', { headers: { Cookie: cookie } });
    expect(reply.status).toBe(200);
    const csp = String(reply.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/script-src|unsafe-inline/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(reply.body).not.toMatch(/<script/i);
    expect(reply.body).toMatch(/data-state="verified"/);
  });

  it('a POST needs this server’s Origin and the session’s CSRF token', async () => {
    const page = await call('/', { headers: { Cookie: cookie } });
    const csrf = csrfOf(page.body);
    expect(csrf.length).toBeGreaterThan(20);
    const body = form({ csrf, lang: 'zh', back: '/' });
    expect((await post('/lang', body, { Origin: 'http://attacker.example' })).status).toBe(403);
    expect((await call('/lang', { method: 'POST', body, headers: { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded' } })).status).toBe(403);
    expect((await post('/lang', form({ csrf: 'x'.repeat(csrf.length), lang: 'zh', back: '/' }))).status).toBe(403);
    expect((await post('/lang', form({ lang: 'zh', back: '/' }))).status).toBe(403);
    const accepted = await post('/lang', body);
    expect(accepted.status).toBe(303);
    expect((await call('/', { headers: { Cookie: cookie } })).body).toContain('hdx 监管控制台');
  });

  it('a patient search leaves no trace of the ID in the address, the page or what the process prints', async () => {
    const csrf = csrfOf((await call('/patient', { headers: { Cookie: cookie } })).body);
    const nationalId = createGenerator(7).dischargeRecord({ hospitalId: 'nanshan-people', dischargeDate: new Date() }).patient.nationalId;
    const reply = await post('/patient', form({ csrf, patientId: nationalId }));
    expect(reply.status, reply.body).toBe(200);
    expect(reply.body).toContain('recipients-none');
    expect(reply.body).not.toContain(nationalId);
    // An ID the gateway cannot read is refused with its reason, and the ID is not echoed.
    const bad = await post('/patient', form({ csrf, patientId: `${nationalId}X` }));
    expect(bad.status, bad.body).toBe(400);
    expect(bad.body).not.toContain(nationalId);
    expect(hdx.stdout + hdx.stderr).not.toContain(nationalId);
    expect(gw.logs.join('')).not.toContain(nationalId);
  });

  it('bad input gets a clear 4xx, not a crash', async () => {
    expect((await call('/transfer?seq=abc', { headers: { Cookie: cookie } })).status).toBe(400);
    expect((await call('/report/view?month=2026-13', { headers: { Cookie: cookie } })).status).toBe(400);
    expect((await call('/nowhere', { headers: { Cookie: cookie } })).status).toBe(404);
    expect((await call('/', { method: 'DELETE', headers: { Cookie: cookie } })).status).toBe(405);
    const transfer = await call('/transfer?seq=0', { headers: { Cookie: cookie } });
    expect(transfer.status).toBe(200);
    expect(transfer.body).toMatch(/Not in the verified log|不在已验证日志中/);
  });
});
