/**
 * Enrolment by CSR end to end, as real parties hold their keys: the party makes its keys and a request,
 * the operator certifies it (`hdx keys sign-request`), the party installs the certificate and then calls
 * the gateway over mutual TLS; renewal repeats it with a fresh TLS key. And the gateway certificate's
 * names: `keys init --gateway-address` makes that address one a party can dial.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHospitalSession } from '../../hospital-adapter/session.js';
import { gatewayNames } from '../../keys/exchange/materials.js';
import { hdxKeys } from '../support/keys-cli.js';
import { createTestExchange, startTestGateway, type TestExchange, type TestGateway } from '../support/harness.js';

const hdx = hdxKeys;

let base: string;
let exchange: string;
let gw: TestGateway;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'hdx-enrol-'));
  exchange = join(base, 'exchange');
  const init = await hdx('keys', 'init', exchange, '--gateway-address', '127.0.0.2', '--json');
  expect(init.error).toBeUndefined();
  const summary = JSON.parse(init.out);
  gw = await startTestGateway({ summary } as TestExchange, { listen: '127.0.0.2:0' });
});

afterAll(async () => {
  await gw?.stop();
  rmSync(base, { recursive: true, force: true });
});

const party = (id: string) => join(base, 'machines', id);
const hasPrivateKey = (text: string) => /PRIVATE KEY|"d"\s*:/.test(text);

describe('enrolment by CSR', () => {
  it('certifies a party whose keys never left it, which then calls the gateway over mTLS; renewal works the same way', async () => {
    const dir = party('futian');
    const request = await hdx('keys', 'request', dir, '--role', 'insurer', '--id', 'futian-insure', '--name', '福田保险', '--json');
    expect(request.error).toBeUndefined();
    const requestPath = JSON.parse(request.out).requestPath as string;
    expect(hasPrivateKey(readFileSync(requestPath, 'utf8'))).toBe(false);

    const responsePath = join(base, 'futian-response.json');
    const signed = await hdx('keys', 'sign-request', exchange, requestPath, '--out', responsePath);
    expect(signed.error).toBeUndefined();
    expect(signed.out).toContain('enrolled spiffe://hdx.local/insurer/futian-insure');
    expect(hasPrivateKey(readFileSync(responsePath, 'utf8'))).toBe(false);
    // The registry lists the party's own public keys (signing and encryption), and no private member.
    const registry = JSON.parse(readFileSync(join(exchange, 'registry.json'), 'utf8')) as { parties: { id: string; keys: { jwk: { use: string } }[] }[] };
    const entry = registry.parties.find((p) => p.id === 'futian-insure')!;
    expect(entry.keys.map((k) => k.jwk.use)).toEqual(['sig', 'enc']);
    const ownSigning = JSON.parse(readFileSync(join(dir, 'signing.jwk'), 'utf8')) as { x: string };
    expect(JSON.stringify(entry)).toContain(ownSigning.x);

    const accepted = await hdx('keys', 'accept', dir, responsePath);
    expect(accepted.error).toBeUndefined();
    expect(accepted.out).toMatch(/exchange CA fingerprint ([0-9A-F]{2}:){31}[0-9A-F]{2}/);

    // Refused until the gateway reloads the registry; accepted after, over mTLS by the configured address.
    const { openInsurerSession } = await import('../../insurer-adapter/session.js');
    await expect(openInsurerSession(dir, `127.0.0.2:${gw.running.port}`)).rejects.toThrow(/registry does not know/);
    await gw.running.reloadRegistry();
    const session = await openInsurerSession(dir, `127.0.0.2:${gw.running.port}`);
    expect(session.gatewayUri).toBe('spiffe://hdx.local/gateway/gateway');
    session.close();

    // Renewal: a new TLS key and certificate; the party keeps calling.
    const before = new X509Certificate(readFileSync(join(dir, 'tls.crt')));
    const keyBefore = readFileSync(join(dir, 'tls.key'), 'utf8');
    const renew = await hdx('keys', 'request', dir, '--renew', '--json');
    expect(renew.error).toBeUndefined();
    const renewed = join(base, 'futian-renewed.json');
    expect((await hdx('keys', 'sign-request', exchange, requestPath, '--out', renewed)).out).toContain('renewed');
    expect((await hdx('keys', 'accept', dir, renewed)).error).toBeUndefined();
    const after = new X509Certificate(readFileSync(join(dir, 'tls.crt')));
    expect(after.serialNumber).not.toBe(before.serialNumber);
    expect(readFileSync(join(dir, 'tls.key'), 'utf8')).not.toBe(keyBefore);
    expect(after.checkPrivateKey((await import('node:crypto')).createPrivateKey(readFileSync(join(dir, 'tls.key'))))).toBe(true);
    const again = await openInsurerSession(dir, `127.0.0.2:${gw.running.port}`);
    again.close();
  });

  it('refuses a second enrolment of the same id, a request for another trust domain, a tampered CSR, and a response for another key', async () => {
    const a = party('luohu');
    const b = party('baoan');
    await hdx('keys', 'request', a, '--role', 'hospital', '--id', 'luohu-people', '--name', '罗湖人民医院');
    await hdx('keys', 'request', b, '--role', 'hospital', '--id', 'baoan-people', '--name', '宝安人民医院');
    const reqA = join(a, 'enrolment-request.json');
    const reqB = join(b, 'enrolment-request.json');

    const foreign = await hdx('keys', 'request', party('other'), '--role', 'hospital', '--id', 'other-people', '--name', 'x', '--trust-domain', 'other.example');
    expect(foreign.error).toBeUndefined();
    const refusedDomain = await hdx('keys', 'sign-request', exchange, join(party('other'), 'enrolment-request.json'), '--out', join(base, 'o.json'));
    expect(refusedDomain.error?.exitCode).toBe(1);
    expect(refusedDomain.err).toContain('the request must name spiffe://hdx.local/hospital/other-people');

    const tampered = JSON.parse(readFileSync(reqA, 'utf8')) as { csr: string };
    tampered.csr = tampered.csr.replace(/(\n[A-Za-z0-9+/]{10})[A-Za-z0-9+/]/, (_m, p: string) => `${p}${p.endsWith('A') ? 'B' : 'A'}`);
    writeFileSync(join(base, 'tampered.json'), JSON.stringify(tampered));
    const refusedCsr = await hdx('keys', 'sign-request', exchange, join(base, 'tampered.json'), '--out', join(base, 't.json'));
    expect(refusedCsr.error?.exitCode).toBe(1);
    expect(refusedCsr.err).toMatch(/certificate request/);

    const respB = join(base, 'b.json');
    expect((await hdx('keys', 'sign-request', exchange, reqB, '--out', respB)).error).toBeUndefined();
    const twice = await hdx('keys', 'sign-request', exchange, reqB, '--out', join(base, 'b2.json'));
    expect(twice.err).toContain('already enrolled');

    const wrongKey = await hdx('keys', 'accept', a, respB);
    expect(wrongKey.error?.exitCode).toBe(1);
    expect(wrongKey.err).toContain('not for this party’s key');
  });
});

describe('the gateway certificate', () => {
  it('names the configured gateway address beside localhost and loopback', () => {
    const cert = new X509Certificate(readFileSync(join(exchange, 'gateway', 'tls.crt')));
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.2');
    expect(cert.subjectAltName).toContain('DNS:localhost');
    expect(gatewayNames('gw.hospital-net.example:7443').dnsNames).toContain('gw.hospital-net.example');
    expect(gatewayNames('[fd00::5]:7443').ipAddresses).toContain('fd00::5');
  });

  it('without the address, a party dialling it is refused by TLS (the name is not in the certificate)', async () => {
    const plain: TestExchange = await createTestExchange();
    const other = await startTestGateway(plain, { listen: '127.0.0.2:0' });
    try {
      const refused = await openHospitalSession(plain.partyDir('nanshan-people'), `127.0.0.2:${other.running.port}`).catch((e: unknown) => e);
      expect(String((refused as Error).message)).toMatch(/altnames|ERR_TLS_CERT_ALTNAME_INVALID/);
    } finally {
      await other.stop();
      plain.cleanup();
    }
  });
});
