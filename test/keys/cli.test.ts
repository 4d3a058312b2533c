import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hdxKeys } from '../support/keys-cli.js';

const hdx = hdxKeys;

let base: string;

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'hdx-cli-'));
});

describe('hdx keys', () => {
  it('init --json creates an exchange and list --json shows parties, roles, kids and validity', async () => {
    const dir = join(base, 'ex');
    const init = await hdx('keys', 'init', dir, '--insurer', 'taikang-online=泰康在线', 'cpic=太平洋', '--enc-alg', 'RSA-OAEP-256', '--json');
    expect(init.error).toBeUndefined();
    const summary = JSON.parse(init.out);
    expect(summary.parties.map((p: { id: string }) => p.id)).toEqual(['nanshan-people', 'szu-general', 'taikang-online', 'cpic', 'szdex']);

    const list = await hdx('keys', 'list', dir, '--json');
    expect(list.error).toBeUndefined();
    const listing = JSON.parse(list.out);
    expect(listing.trustDomain).toBe('hdx.local');
    const cpic = listing.parties.find((p: { id: string }) => p.id === 'cpic');
    expect(cpic).toMatchObject({ role: 'insurer', name: '太平洋', uri: 'spiffe://hdx.local/insurer/cpic' });
    expect(cpic.keys.map((k: { use: string; alg: string; status: string }) => `${k.use}:${k.alg}:${k.status}`)).toEqual([
      'sig:ES256:valid',
      'enc:RSA-OAEP-256:valid',
    ]);
    expect(cpic.keys[0].kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(listing.parties[0]).toMatchObject({ id: 'gateway', role: 'gateway' });

    const text = await hdx('keys', 'list', dir);
    expect(text.out).toContain('insurer    cpic');
  });

  it('issue and rotate, then list shows the grace window', async () => {
    const dir = join(base, 'ex2');
    expect((await hdx('keys', 'init', dir, '--regulator', 'szdex=监管', '--json')).error).toBeUndefined();
    const issued = await hdx('keys', 'issue', dir, '--role', 'hospital', '--id', 'pku-shenzhen', '--name', '北京大学深圳医院', '--json');
    expect(issued.error).toBeUndefined();
    expect(JSON.parse(issued.out).uri).toBe('spiffe://hdx.local/hospital/pku-shenzhen');

    const rotated = await hdx('keys', 'rotate', dir, '--party', 'pku-shenzhen', '--use', 'sig', '--grace-days', '1', '--json');
    expect(rotated.error).toBeUndefined();
    const r = JSON.parse(rotated.out);
    const later = new Date(Date.now() + 2 * 24 * 3600 * 1000).toISOString();
    const listing = JSON.parse((await hdx('keys', 'list', dir, '--at', later, '--json')).out);
    const keys = listing.parties.find((p: { id: string }) => p.id === 'pku-shenzhen').keys;
    expect(keys.map((k: { kid: string; status: string }) => [k.kid, k.status])).toEqual([
      [r.previousKid, 'expired'],
      [r.kid, 'valid'],
    ]);
  });

  it('rotates the audit-log key: the old one kept, log.pub replaced in the party folders', async () => {
    const dir = join(base, 'ex-log');
    expect((await hdx('keys', 'init', dir, '--json')).error).toBeUndefined();
    const pubBefore = readFileSync(join(dir, 'parties', 'szdex', 'log.pub'), 'utf8');
    const rotated = await hdx('keys', 'rotate', dir, '--party', 'gateway', '--use', 'log', '--json');
    expect(rotated.error).toBeUndefined();
    const r = JSON.parse(rotated.out);
    expect(r.verifierKey).not.toBe(r.previousVerifierKey);
    expect(r.partiesUpdated).toContain('szdex');
    expect(readFileSync(join(dir, 'parties', 'szdex', 'log.pub'), 'utf8')).not.toBe(pubBefore);
    expect(readdirSync(join(dir, 'gateway')).filter((f) => f.startsWith('log.key.') && f.endsWith('.old'))).toHaveLength(1);
  });

  it('fails with a clear message and exit code 1', async () => {
    const dir = join(base, 'ex3');
    await hdx('keys', 'init', dir, '--json');
    const again = await hdx('keys', 'init', dir);
    expect(again.error?.exitCode).toBe(1);
    expect(again.err).toMatch(/^error: .*not empty.*\(ERR_EXCHANGE_EXISTS\)\n$/);

    const badSpec = await hdx('keys', 'init', join(base, 'ex4'), '--hospital', 'no-name');
    expect(badSpec.error?.exitCode).toBe(1);
    expect(badSpec.err).toContain('id=name');

    const unknown = await hdx('keys', 'rotate', dir, '--party', 'nobody', '--use', 'sig');
    expect(unknown.error?.exitCode).toBe(1);
    expect(unknown.err).toContain('ERR_UNKNOWN_PARTY');

    const badUse = await hdx('keys', 'rotate', dir, '--party', 'szdex', '--use', 'both');
    expect(badUse.error?.exitCode).toBe(1);
    expect(badUse.err).toContain('Allowed choices are sig, enc, log');

    const notGateway = await hdx('keys', 'rotate', dir, '--party', 'szdex', '--use', 'log');
    expect(notGateway.error?.exitCode).toBe(1);
    expect(notGateway.err).toContain('only the gateway has a log key');

    const missing = await hdx('keys', 'list', join(base, 'nowhere'));
    expect(missing.error?.exitCode).toBe(1);
    expect(missing.err).toContain('ERR_REGISTRY');
  });

  it('has help for every command', async () => {
    for (const cmd of ['init', 'issue', 'rotate', 'list']) {
      const help = await hdx('keys', cmd, '--help');
      expect(help.error?.code).toBe('commander.helpDisplayed');
      expect(help.out).toContain(`Usage: hdx keys ${cmd}`);
      expect(help.out).toContain('--json');
    }
  });
});
