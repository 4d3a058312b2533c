import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExchangeBusy, ExchangeExists, InvalidExchange, UnknownParty } from '../../keys/errors.js';
import { initExchange, issueParty, loadGatewayIdentity, loadPartyIdentity, rotatePartyKey, type ExchangeSummary } from '../../keys/exchange.js';
import { openPayload, sealPayload } from '../../keys/formats/payload.js';
import { signSubmission, verifySubmission } from '../../keys/formats/submission.js';
import { loadRegistry, PartyDirectory } from '../../keys/registry.js';

const mode = (p: string) => statSync(p).mode & 0o777;

let base: string;
let root: string;
let summary: ExchangeSummary;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'hdx-exchange-'));
  root = join(base, 'exchange');
  summary = await initExchange(root);
});

describe('initExchange', () => {
  it('creates the CA, gateway, default parties and registry', () => {
    expect(summary.trustDomain).toBe('hdx.local');
    expect(summary.parties.map((p) => `${p.role}/${p.id}`)).toEqual([
      'hospital/nanshan-people',
      'hospital/szu-general',
      'insurer/taikang-online',
      'insurer/pingan-health',
      'regulator/szdex',
    ]);
    expect(readdirSync(root).sort()).toEqual(['ca', 'gateway', 'parties', 'registry.json']);
    expect(readdirSync(join(root, 'gateway')).sort()).toEqual(['ca.crt', 'gateway.json', 'log.key', 'master.key', 'signing.jwk', 'tls.crt', 'tls.key']);
    expect(readdirSync(join(root, 'parties', 'taikang-online')).sort()).toEqual([
      'ca.crt', 'encryption.jwk', 'log.pub', 'party.json', 'signing.jwk', 'tls.crt', 'tls.key',
    ]);
    expect(existsSync(join(root, 'parties', 'nanshan-people', 'encryption.jwk'))).toBe(false);
    expect(JSON.parse(readFileSync(join(root, 'parties', 'szu-general', 'party.json'), 'utf8'))).toEqual({
      id: 'szu-general',
      role: 'hospital',
      name: '深圳大学总医院',
      uri: 'spiffe://hdx.local/hospital/szu-general',
      trustDomain: 'hdx.local',
      gateway: 'localhost:7443',
    });
    expect(JSON.parse(readFileSync(join(root, 'gateway', 'gateway.json'), 'utf8'))).toMatchObject({
      trustDomain: 'hdx.local',
      uri: 'spiffe://hdx.local/gateway/gateway',
      listen: '127.0.0.1:7443',
    });
  });

  it('writes private keys 0600 and folders 0700', () => {
    for (const f of ['ca/ca.key', 'gateway/tls.key', 'gateway/signing.jwk', 'gateway/log.key', 'gateway/master.key', 'parties/taikang-online/encryption.jwk', 'parties/szdex/signing.jwk', 'parties/szdex/tls.key']) {
      expect(mode(join(root, f)), f).toBe(0o600);
    }
    for (const d of ['', 'ca', 'gateway', 'parties', 'parties/nanshan-people']) expect(mode(join(root, d)), d).toBe(0o700);
    expect(mode(join(root, 'registry.json'))).toBe(0o644);
  });

  it('lists public keys only in the registry: every party signs, insurers also encrypt, the gateway signs', () => {
    const text = readFileSync(join(root, 'registry.json'), 'utf8');
    expect(text).not.toMatch(/"d"\s*:/);
    const dir = new PartyDirectory(loadRegistry(join(root, 'registry.json')));
    expect(dir.byId('gateway')?.role).toBe('gateway');
    for (const p of dir.parties()) {
      expect(dir.keys(p.id, 'sig')).toHaveLength(1);
      expect(dir.keys(p.id, 'enc')).toHaveLength(p.role === 'insurer' ? 1 : 0);
    }
    expect(dir.currentKey('taikang-online', 'enc').jwk.alg).toBe('ECDH-ES+A256KW');
    expect(dir.currentKey('taikang-online', 'enc').jwk.crv).toBe('P-256');
  });

  it('issues the gateway a server certificate for localhost, 127.0.0.1 and ::1', () => {
    const cert = new X509Certificate(readFileSync(join(root, 'gateway', 'tls.crt')));
    expect(cert.subjectAltName).toContain('URI:spiffe://hdx.local/gateway/gateway');
    expect(cert.subjectAltName).toContain('DNS:localhost');
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkIP('::1')).toBe('::1');
    expect(cert.checkIssued(new X509Certificate(readFileSync(join(root, 'ca', 'ca.crt'))))).toBe(true);
  });

  it('refuses to overwrite an existing exchange or a non-empty folder', async () => {
    await expect(initExchange(root)).rejects.toThrow(ExchangeExists);
    const other = join(base, 'occupied');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'x');
    await expect(initExchange(other)).rejects.toThrow(ExchangeExists);
    expect(readdirSync(base).filter((f) => f.includes('.init-'))).toEqual([]); // no temporary folder left behind
  });

  it('initialises into an existing empty folder, with custom parties and X25519 encryption keys', async () => {
    const dir = join(base, 'empty');
    mkdirSync(dir);
    const s = await initExchange(dir, {
      trustDomain: 'pilot.sz',
      hospitals: [{ id: 'h1', name: 'H1' }],
      insurers: [{ id: 'i1', name: 'I1' }],
      regulators: [],
      encryptionCurve: 'X25519',
    });
    expect(s.parties.map((p) => p.uri)).toEqual(['spiffe://pilot.sz/hospital/h1', 'spiffe://pilot.sz/insurer/i1']);
    expect(loadPartyIdentity(join(dir, 'parties', 'i1')).encryptionKey?.crv).toBe('X25519');
    await expect(initExchange(join(base, 'dup'), { hospitals: [{ id: 'h1', name: 'a' }], insurers: [{ id: 'h1', name: 'b' }] })).rejects.toThrow(TypeError);
  });
});

describe('loaders', () => {
  it('loads a party identity', () => {
    const id = loadPartyIdentity(join(root, 'parties', 'taikang-online'));
    expect(id.party).toEqual({ id: 'taikang-online', role: 'insurer', name: '泰康在线', uri: 'spiffe://hdx.local/insurer/taikang-online', trustDomain: 'hdx.local' });
    expect(id.gateway).toBe('localhost:7443');
    expect(id.signingKey.d).toBeTypeOf('string');
    expect(id.encryptionKey?.alg).toBe('ECDH-ES+A256KW');
    expect(id.previousEncryptionKeys).toEqual([]);
    expect(id.logPublicKeyPem).toContain('BEGIN PUBLIC KEY');
    expect(id.tls.cert.toString()).toContain('BEGIN CERTIFICATE');
    expect(id.tls.ca).toEqual(readFileSync(join(root, 'ca', 'ca.crt')));
  });

  it('loads the gateway identity', () => {
    const gw = loadGatewayIdentity(join(root, 'gateway'));
    expect(gw.uri).toBe('spiffe://hdx.local/gateway/gateway');
    expect(gw.listen).toBe('127.0.0.1:7443');
    expect(gw.masterSecret).toHaveLength(32);
    expect(gw.logPrivateKeyPem).toContain('BEGIN PRIVATE KEY');
    expect(gw.logPublicKeyPem).toBe(loadPartyIdentity(join(root, 'parties', 'szdex')).logPublicKeyPem);
    expect(gw.registryPath).toBe(join(root, 'registry.json'));
    expect(gw.signingKey.alg).toBe('ES256');
  });

  it('refuses broken files with InvalidExchange', () => {
    const dir = mkdtempSync(join(base, 'broken-'));
    expect(() => loadPartyIdentity(dir)).toThrow(InvalidExchange);
    writeFileSync(join(dir, 'party.json'), JSON.stringify({ id: 'x1', role: 'hospital', name: 'X', uri: 'spiffe://hdx.local/insurer/x1', trustDomain: 'hdx.local', gateway: 'g:1' }));
    expect(() => loadPartyIdentity(dir)).toThrow(/uri does not match/);
  });

  it('gives keys that work together: a hospital signs, the gateway verifies; the gateway seals, the insurer opens', async () => {
    const dir = new PartyDirectory(loadRegistry(join(root, 'registry.json')));
    const h = loadPartyIdentity(join(root, 'parties', 'nanshan-people'));
    const gw = loadGatewayIdentity(join(root, 'gateway'));
    const jws = await signSubmission({ iss: h.party.uri, aud: gw.uri, jti: 'k1', hdx: { bundleDigest: 'sha256:' + 'A'.repeat(43), purpose: 'CLAIM' } }, h.signingKey);
    await expect(verifySubmission(jws, dir.jwks('nanshan-people', 'sig'), { audience: gw.uri, issuer: h.party.uri })).resolves.toBeDefined();
    const jwe = await sealPayload(new Uint8Array([1, 2, 3]), dir.currentKey('taikang-online', 'enc').jwk);
    const ins = loadPartyIdentity(join(root, 'parties', 'taikang-online'));
    expect([...(await openPayload(jwe, ins.encryptionKey!))]).toEqual([1, 2, 3]);
  });
});

describe('issueParty', () => {
  it('adds a party: folder, certificate, keys and registry entry', async () => {
    const p = await issueParty(root, { id: 'cpic-health', role: 'insurer', name: '太平洋健康' });
    expect(p.uri).toBe('spiffe://hdx.local/insurer/cpic-health');
    const dir = new PartyDirectory(loadRegistry(join(root, 'registry.json')));
    expect(dir.byId('cpic-health')?.keys).toHaveLength(2);
    const id = loadPartyIdentity(p.dir);
    expect(id.encryptionKey?.kid).toBe(dir.currentKey('cpic-health', 'enc').jwk.kid);
    expect(id.signingKey.kid).toBe(dir.currentKey('cpic-health', 'sig').jwk.kid);
    expect(id.logPublicKeyPem).toBe(loadGatewayIdentity(join(root, 'gateway')).logPublicKeyPem);
    expect(new X509Certificate(id.tls.cert).subjectAltName).toBe('URI:spiffe://hdx.local/insurer/cpic-health');
    expect(mode(join(p.dir, 'encryption.jwk'))).toBe(0o600);
    expect(mode(p.dir)).toBe(0o700);
    expect(readdirSync(join(root, 'parties')).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('refuses an existing id, the gateway role, and a missing exchange', async () => {
    await expect(issueParty(root, { id: 'szdex', role: 'regulator', name: 'again' })).rejects.toThrow(ExchangeExists);
    await expect(issueParty(root, { id: 'gw2', role: 'gateway' as never, name: 'x' })).rejects.toThrow(TypeError);
    await expect(issueParty(join(base, 'nowhere'), { id: 'h9', role: 'hospital', name: 'x' })).rejects.toThrow();
  });

  it('refuses while another process holds the registry lock', async () => {
    const lock = join(root, 'registry.json.lock');
    writeFileSync(lock, '1');
    try {
      await expect(issueParty(root, { id: 'h-locked', role: 'hospital', name: 'x' })).rejects.toThrow(ExchangeBusy);
    } finally {
      unlinkSync(lock);
    }
  });
});

describe('rotatePartyKey', () => {
  it('rotates an insurer encryption key: new key current, old one valid for the grace period, old file kept', async () => {
    const partyDir = join(root, 'parties', 'taikang-online');
    const before = loadPartyIdentity(partyDir);
    const sealedBefore = await sealPayload(new Uint8Array([7]), new PartyDirectory(loadRegistry(join(root, 'registry.json'))).currentKey('taikang-online', 'enc').jwk);
    const now = new Date();
    const r = await rotatePartyKey(root, 'taikang-online', 'enc', { now });
    expect(r.previousKid).toBe(before.encryptionKey!.kid);
    expect(r.kid).not.toBe(r.previousKid);
    expect(Date.parse(r.previousValidUntil) - now.getTime()).toBe(7 * 24 * 3600 * 1000);

    const dir = new PartyDirectory(loadRegistry(join(root, 'registry.json')));
    expect(dir.currentKey('taikang-online', 'enc', now).jwk.kid).toBe(r.kid);
    expect(dir.keys('taikang-online', 'enc', now).map((k) => k.jwk.kid)).toEqual([r.previousKid, r.kid]);
    expect(dir.keys('taikang-online', 'enc', new Date(now.getTime() + 8 * 24 * 3600 * 1000)).map((k) => k.jwk.kid)).toEqual([r.kid]);
    expect(dir.keys('taikang-online', 'sig', now)).toHaveLength(1); // the other use is untouched

    const oldFile = join(partyDir, `encryption.jwk.${r.previousKid}.old`);
    expect(mode(oldFile)).toBe(0o600);
    const after = loadPartyIdentity(partyDir);
    expect(after.encryptionKey!.kid).toBe(r.kid);
    expect(after.previousEncryptionKeys.map((k) => k.kid)).toEqual([r.previousKid]);
    // a payload sealed before the rotation still opens with the loaded keys
    expect([...(await openPayload(sealedBefore, [after.encryptionKey!, ...after.previousEncryptionKeys]))]).toEqual([7]);
  });

  it("rotates the gateway's signing key with a custom grace period", async () => {
    const r = await rotatePartyKey(root, 'gateway', 'sig', { gracePeriodMs: 60_000 });
    expect(loadGatewayIdentity(join(root, 'gateway')).signingKey.kid).toBe(r.kid);
    expect(existsSync(join(root, 'gateway', `signing.jwk.${r.previousKid}.old`))).toBe(true);
    const dir = new PartyDirectory(loadRegistry(join(root, 'registry.json')));
    expect(dir.jwks('gateway', 'sig').keys).toHaveLength(2);
    expect(dir.jwks('gateway', 'sig', new Date(Date.now() + 120_000)).keys.map((k) => k.kid)).toEqual([r.kid]);
  });

  it('refuses an unknown party and a use the party has no key for', async () => {
    await expect(rotatePartyKey(root, 'nobody', 'sig')).rejects.toThrow(UnknownParty);
    await expect(rotatePartyKey(root, 'nanshan-people', 'enc')).rejects.toThrow(/no enc key/);
    await expect(rotatePartyKey(root, 'nanshan-people', 'x' as never)).rejects.toThrow(TypeError);
  });
});
