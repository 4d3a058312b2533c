/**
 * Integration-test harness: a real dev exchange (CA, certificates, JOSE keys) in a temporary folder, a
 * real gateway on a loopback port with mutual TLS and a real database (SQLite, or PostgreSQL with
 * HDX_TEST_STORE=postgres: test/support/stores.ts), and real party sessions.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { initExchange, type ExchangeSummary } from '../../keys/exchange/init.js';
import { Purpose } from '../../proto/gen/hdx/v1/common.js';
import { ADJUDICATION_CATEGORIES } from '../../hospital-adapter/consent.js';
import type { ConsentTerms } from '../../proto/gen/hdx/v1/consent.js';
import { startGateway, type GatewayServerOptions, type RunningGateway } from '../../gateway/server.js';
import { openHospitalSession, type HospitalSession } from '../../hospital-adapter/session.js';
import { openInsurerSession, type InsurerSession } from '../../insurer-adapter/session.js';
import { openComplianceSession, type ComplianceSession } from '../../compliance/session.js';
import { issueCertificate, type CertificateAuthority, type IssueCertificateOptions, type IssuedCertificate } from '../../keys/pki.js';
import { connectGateway, type GatewayClients } from '../../proto/connect.js';
import { storeSql, type TestSql } from './sql.js';
import { testStoreFactory } from './stores.js';

export interface TestExchange {
  root: string;
  summary: ExchangeSummary;
  partyDir(id: string): string;
  cleanup(): void;
}

export async function createTestExchange(): Promise<TestExchange> {
  const root = mkdtempSync(join(tmpdir(), 'hdx-test-'));
  const summary = await initExchange(join(root, 'exchange'));
  return {
    root,
    summary,
    partyDir: (id) => join(root, 'exchange', 'parties', id),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

export interface TestGateway {
  running: RunningGateway;
  address: string;
  /** Every log line the gateway wrote, as text. */
  logs: string[];
  /** Its tables, on either engine (test/support/sql.ts). */
  sql: TestSql;
  stop(): Promise<void>;
}

export async function startTestGateway(ex: TestExchange, options: Partial<GatewayServerOptions> = {}): Promise<TestGateway> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const running = await startGateway({
    gatewayDir: ex.summary.gateway.dir,
    listen: '127.0.0.1:0',
    // One seal worker, as production runs them (errors must keep their class across threads).
    sealWorkers: 1,
    logger: pino({ level: 'debug' }, sink),
    // The engine chosen by HDX_TEST_STORE (test/support/stores.ts).
    store: testStoreFactory(),
    ...options,
  });
  return { running, address: `localhost:${running.port}`, logs, sql: storeSql(running.gateway.store), stop: () => running.stop() };
}

export interface Sessions {
  nanshan: HospitalSession;
  szu: HospitalSession;
  taikang: InsurerSession;
  pingan: InsurerSession;
  regulator: ComplianceSession;
  closeAll(): void;
}

export async function openSessions(ex: TestExchange, gw: TestGateway): Promise<Sessions> {
  const [nanshan, szu, taikang, pingan] = await Promise.all([
    openHospitalSession(ex.partyDir('nanshan-people'), gw.address),
    openHospitalSession(ex.partyDir('szu-general'), gw.address),
    openInsurerSession(ex.partyDir('taikang-online'), gw.address),
    openInsurerSession(ex.partyDir('pingan-health'), gw.address),
  ]);
  const regulator = openComplianceSession(ex.partyDir('szdex'), { address: gw.address });
  return {
    nanshan,
    szu,
    taikang,
    pingan,
    regulator,
    closeAll() {
      for (const s of [nanshan, szu, taikang, pingan, regulator]) s.close();
    },
  };
}

const DAY = 86_400_000;

/** Consent terms with sensible defaults: valid from a year ago to a year ahead, all but notes. */
export function terms(overrides: Partial<ConsentTerms> & { insurerId: string }): ConsentTerms {
  const now = Date.now();
  return {
    policyNumber: 'PL-2026-000123',
    purpose: Purpose.PURPOSE_DIRECT_SETTLEMENT,
    categories: [...ADJUDICATION_CATEGORIES],
    hospitalIds: ['nanshan-people'],
    anyHospital: false,
    validFrom: new Date(now - 365 * DAY),
    validUntil: new Date(now + 365 * DAY),
    capture: {
      channel: 'deposit-desk',
      capturedAt: new Date(now - DAY),
      noticeVersion: 'v1',
      formDigest: `sha256:${'A'.repeat(43)}`,
    },
    ...overrides,
  };
}

let counter = 0;
export function idem(prefix = 'test'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now()}-${counter}`;
}

/** Resolves once `predicate()` holds, checking every 10 ms; rejects after `ms`. */
export function waitFor(predicate: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => (predicate() ? resolve() : Date.now() > until ? reject(new Error('timed out')) : setTimeout(tick, 10));
    tick();
  });
}

/** The exchange's CA (certificate and key), to issue test certificates with. */
export function exchangeCa(ex: TestExchange): CertificateAuthority {
  return {
    certPem: readFileSync(join(ex.summary.dir, 'ca', 'ca.crt'), 'utf8'),
    keyPem: readFileSync(join(ex.summary.dir, 'ca', 'ca.key'), 'utf8'),
  };
}

/**
 * A client certificate for `uri` shaped by the test (validity window, usage), issued by `ca` (default: the
 * exchange's CA) — for callers whose certificate is expired, not yet valid, for servers only, or foreign.
 */
export function issueTestCertificate(
  ex: TestExchange,
  uri: string,
  options: Partial<Pick<IssueCertificateOptions, 'usage' | 'validDays' | 'notBefore'>> & { ca?: CertificateAuthority } = {},
): IssuedCertificate {
  const { ca = exchangeCa(ex), ...rest } = options;
  return issueCertificate(ca, { commonName: uri.slice(uri.lastIndexOf('/') + 1), uri, usage: 'client', validDays: 1, ...rest });
}

/** Raw gateway clients presenting `cert` (or no client certificate at all), trusting the exchange CA. */
export function connectWith(ex: TestExchange, gw: TestGateway, cert: IssuedCertificate | null): GatewayClients {
  const ca = readFileSync(join(ex.summary.dir, 'ca', 'ca.crt'));
  if (cert) return connectGateway(gw.address, { cert: Buffer.from(cert.certPem), key: Buffer.from(cert.keyPem), ca });
  return connectGateway(gw.address, { ca } as Parameters<typeof connectGateway>[1]);
}

/** Takes a party out of the exchange's registry file (the gateway sees it at its next reload). */
export function removeFromRegistry(ex: TestExchange, partyId: string): void {
  const registry = JSON.parse(readFileSync(ex.summary.registryPath, 'utf8')) as { parties: Array<{ id: string }> };
  registry.parties = registry.parties.filter((p) => p.id !== partyId);
  writeFileSync(ex.summary.registryPath, `${JSON.stringify(registry, null, 2)}\n`);
}
