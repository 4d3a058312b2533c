/**
 * Clients given several gateway addresses (issue 12 item 2): the adapters and the officer's session are
 * given `localhost:<A>,127.0.0.1:<B>`. Gateway A serves; A stops for good and gateway B starts on the same
 * data folder on another port (standing in for a second replica of one exchange: two SQLite folders would
 * be two exchanges); the following adapters and a new submission carry on through B, and TLS still checks
 * the gateway's certificate (its SAN names localhost, the first address's host).
 */
import { X509Certificate } from 'node:crypto';
import { createServer } from 'node:net';
import { initExchange } from '../../keys/exchange/init.js';
import { loadGatewayIdentity, loadPartyIdentity } from '../../keys/exchange/load.js';
import { gatewayAddressList } from '../../cli/runtime/values.js';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followDecisions, type DecisionEvent } from '../../hospital-adapter/decisions.js';
import { openHospitalSession, type HospitalSession } from '../../hospital-adapter/session.js';
import { pullAndDecide } from '../../insurer-adapter/pull-and-decide.js';
import { adjudicate } from '../../insurer-adapter/rules/example-rules.js';
import { openInsurerSession, type InsurerSession } from '../../insurer-adapter/session.js';
import { openComplianceSession } from '../../compliance/session.js';
import { unaryCall } from '../../proto/connect.js';
import { gatewayAddresses, gatewayTarget } from '../../proto/gateway-list.js';
import { createTestExchange, startTestGateway, waitFor, type TestExchange, type TestGateway } from '../support/harness.js';
import { consentAndSubmit, recordMaker } from '../settlement/support.js';

/** A loopback port nothing listens on now (B's, before B starts). */
function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

let ex: TestExchange;
let a: TestGateway;
let b: TestGateway | undefined;
let portB: number;
let addresses: string;
let nanshan: HospitalSession;
let taikang: InsurerSession;
const record = recordMaker(20261203);

beforeAll(async () => {
  ex = await createTestExchange();
  a = await startTestGateway(ex);
  portB = await unusedPort();
  addresses = `localhost:${a.running.port}, 127.0.0.1:${portB}`;
  [nanshan, taikang] = await Promise.all([
    openHospitalSession(ex.partyDir('nanshan-people'), addresses),
    openInsurerSession(ex.partyDir('taikang-online'), addresses),
  ]);
});

afterAll(async () => {
  nanshan?.close();
  taikang?.close();
  await b?.stop();
  await a?.stop();
  ex?.cleanup();
});

describe('an exchange made for replicas', () => {
  it('`keys init` with several addresses: every host in the gateway certificate, the list in each party.json', async () => {
    const dir = join(ex.root, 'replicated');
    const summary = await initExchange(dir, { gatewayAddress: 'gw1.example.org:7443, 10.0.0.2:8443, gw3.example.org' });
    expect(summary.gateway.address).toBe('gw1.example.org:7443,10.0.0.2:8443,gw3.example.org:7443');
    expect(summary.gateway.listen).toBe('127.0.0.1:7443');
    const names = new X509Certificate(loadGatewayIdentity(summary.gateway.dir).tls.cert).subjectAltName ?? '';
    for (const name of ['DNS:gw1.example.org', 'IP Address:10.0.0.2', 'DNS:gw3.example.org', 'DNS:localhost']) expect(names).toContain(name);
    expect(loadPartyIdentity(join(dir, 'parties', 'nanshan-people')).gateway).toBe(summary.gateway.address);
  });
});

describe('a list of gateway addresses', () => {
  it('is one address as before, and a list in the order given', () => {
    expect(gatewayTarget('localhost:7443')).toBe('localhost:7443');
    expect(gatewayAddresses(' gw1.hdx.local:7443, ,10.0.0.2:7443')).toEqual(['gw1.hdx.local:7443', '10.0.0.2:7443']);
    expect(gatewayTarget('gw1.hdx.local:7443,10.0.0.2:7443')).toBe('hdx-gateways:gw1.hdx.local:7443,10.0.0.2:7443');
    // The setting (--gateway, HDX_GATEWAY_ADDRESS) checks every entry.
    expect(gatewayAddressList('gw1.hdx.local:7443, [::1]:7443')).toBe('gw1.hdx.local:7443,[::1]:7443');
    expect(() => gatewayAddressList('gw1.hdx.local:7443,gw2.hdx.local')).toThrow(/must be host:port/);
    expect(() => gatewayAddressList('gw1.hdx.local:7443,')).toThrow(/must be host:port/);
  });

  it('the adapters and the officer continue on the next gateway when the first one stops', async () => {
    const abort = new AbortController();
    const seen: DecisionEvent[] = [];
    const reconnects = { hospital: 0, insurer: 0 };
    const hospital = followDecisions(nanshan, {
      outDir: join(ex.root, 'his'),
      follow: true,
      signal: abort.signal,
      onDecision: (e) => void seen.push(e),
      onReconnect: () => void (reconnects.hospital += 1),
    });
    const insurer = pullAndDecide(taikang, {
      outDir: join(ex.root, 'inbox'),
      follow: true,
      rules: adjudicate,
      signal: abort.signal,
      onReconnect: () => void (reconnects.insurer += 1),
    });

    const before = await consentAndSubmit(nanshan, record('nanshan-people'), 'taikang-online');
    await waitFor(() => seen.length === 1, 30_000);
    expect(await a.running.gateway.submissions.get(before.submissionId)).toBeDefined();

    await a.stop(); // for good: nothing listens on A's port from here on
    b = await startTestGateway(ex, { listen: `127.0.0.1:${portB}` });
    // The submission's UNAVAILABLE is retried; the channel finds B.
    const after = await consentAndSubmit(nanshan, record('nanshan-people'), 'taikang-online');
    await waitFor(() => seen.length >= 2, 30_000);

    // The officer's session, given the same list while A is down, is served by B.
    const officer = openComplianceSession(ex.partyDir('szdex'), { address: addresses });
    try {
      const head = await unaryCall(officer.clients.audit, officer.clients.audit.getCheckpoint, {});
      expect(head.checkpoint).toBeDefined();
    } finally {
      officer.close();
    }

    abort.abort();
    const [followed, decided] = await Promise.all([hospital, insurer]);
    expect(reconnects.hospital).toBeGreaterThan(0);
    expect(reconnects.insurer).toBeGreaterThan(0);
    expect(seen.map((e) => (e.ok ? e.decision.submissionId : e.transferId))).toEqual([before.submissionId, after.submissionId]);
    expect(followed.received).toBe(2);
    expect(decided.decided.filter((d) => d.ok).map((d) => d.transferId)).toEqual(
      expect.arrayContaining([before.transfers[0]!.transferId, after.transfers[0]!.transferId]),
    );
    // B recorded the second submission, and serves the first (same folder, same exchange).
    expect(await b.running.gateway.submissions.get(after.submissionId)).toBeDefined();
    expect(await b.running.gateway.submissions.get(before.submissionId)).toBeDefined();
  }, 60_000);
});
