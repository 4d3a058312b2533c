/**
 * The cryptography of one record, three ways, per CPU-second of this process (user + system):
 * hdx (`keys/formats`, over `keys/jose-native`), jose 6 (WebCrypto), and the `node:crypto` floor (the
 * bare primitive on the same bytes, no JOSE encoding); `openssl speed` beside them when it is installed.
 * Operations: ES256 and EdDSA sign and verify of a transfer-envelope-sized JWT, and the seal and open of
 * a 19 KB bundle (ECDH-ES+A256KW / A256GCM on P-256 and X25519).
 */
import { execFileSync } from 'node:child_process';
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { CompactEncrypt, SignJWT, compactDecrypt, importJWK, jwtVerify, type CryptoKey } from 'jose';
import { openPayload, sealPayload } from '../keys/formats/payload.js';
import { signJwt, verifyJwt } from '../keys/formats/jws.js';
import { generateEncryptionKey, generateSigningKey, type EncryptionCurve, type SigningAlg } from '../keys/jose-keys.js';
import { privateKeyOf, publicKeyOf } from '../keys/jose-native/key-objects.js';
import type { BenchLine, BenchOptions } from './types.js';

const BUNDLE_BYTES = 19 * 1024;
const TYP = 'hdx-bench+jwt';
const AUDIENCE = 'spiffe://hdx.local/insurer/bench';

/** Operations per CPU-second: runs `op` for about `seconds` of wall time, divides by the CPU it used. */
async function perCpuSecond(seconds: number, op: () => unknown): Promise<number> {
  for (let i = 0; i < 20; i++) await op();
  const start = process.cpuUsage();
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 10; i++) await op();
    n += 10;
  }
  const used = process.cpuUsage(start);
  return n / ((used.user + used.system) / 1e6);
}

function claims() {
  return { iss: 'spiffe://hdx.local/gateway/gateway', aud: AUDIENCE, jti: 'trf-0001', iat: Math.floor(Date.now() / 1000), hdx: { payloadDigest: `sha256:${'A'.repeat(43)}`, consent: 'cs-0001', purpose: 'DIRECT_SETTLEMENT', categories: ['encounter', 'diagnosis', 'charges'] } };
}

/** hdx's and jose's lines are read against the bare node:crypto operation on the same bytes. */
// and node:crypto's signatures against `openssl speed` (which names only the signatures).
const againstFloor = (name: string) =>
  name.endsWith('floor') ? (/sign|verify/.test(name) ? { floor: name.replace(/ — .*$/, ' — openssl speed') } : {}) : { floor: name.replace(/ — .*$/, ' — node:crypto floor') };

async function signatureLines(alg: SigningAlg, seconds: number): Promise<BenchLine[]> {
  const pair = generateSigningKey(alg);
  const jwks = { keys: [pair.publicJwk] };
  const ours = await signJwt(claims(), pair.privateJwk, TYP);
  const joseSigning = (await importJWK(pair.privateJwk, alg)) as CryptoKey;
  const joseVerifying = (await importJWK(pair.publicJwk, alg)) as CryptoKey;
  const priv: KeyObject = privateKeyOf(pair.privateJwk);
  const pub: KeyObject = publicKeyOf(pair.publicJwk);
  const input = Buffer.from(ours.split('.').slice(0, 2).join('.'));
  const signature = Buffer.from(ours.split('.')[2]!, 'base64url');
  const digest = alg === 'ES256' ? 'sha256' : null;
  const opts = (key: KeyObject) => (alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' as const } : key);
  const verifyOptions = { audience: AUDIENCE };
  const lines: [string, () => unknown][] = [
    [`${alg} sign — hdx`, () => signJwt(claims(), pair.privateJwk, TYP)],
    [`${alg} sign — jose 6`, () => new SignJWT(claims()).setProtectedHeader({ alg, kid: pair.publicJwk.kid!, typ: TYP }).sign(joseSigning)],
    [`${alg} sign — node:crypto floor`, () => sign(digest, input, opts(priv))],
    [`${alg} verify — hdx`, () => verifyJwt(ours, jwks, TYP, verifyOptions)],
    [`${alg} verify — jose 6`, () => jwtVerify(ours, joseVerifying, { typ: TYP, audience: AUDIENCE })],
    [`${alg} verify — node:crypto floor`, () => verify(digest, input, opts(pub), signature)],
  ];
  const out: BenchLine[] = [];
  for (const [name, op] of lines) out.push({ name, value: await perCpuSecond(seconds, op), unit: 'ops/CPU-s', ...againstFloor(name) });
  return out;
}

async function sealLines(crv: EncryptionCurve, seconds: number): Promise<BenchLine[]> {
  const pair = generateEncryptionKey('ECDH-ES+A256KW', crv);
  const bundle = randomBytes(BUNDLE_BYTES);
  const jwe = await sealPayload(bundle, pair.publicJwk);
  const joseEnc = (await importJWK(pair.publicJwk, 'ECDH-ES+A256KW')) as CryptoKey;
  const joseDec = (await importJWK(pair.privateJwk, 'ECDH-ES+A256KW')) as CryptoKey;
  const header = { alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: pair.publicJwk.kid!, cty: 'application/fhir+json' };
  const recipient = publicKeyOf(pair.publicJwk);
  const own = privateKeyOf(pair.privateJwk);
  const ephemeralOf = () => (crv === 'P-256' ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) : generateKeyPairSync('x25519'));
  const epkJwk = ephemeralOf().publicKey.export({ format: 'jwk' });
  const iv = randomBytes(12);
  const key = createHash('sha256').update('k').digest();
  const { ciphertext, tag } = (() => {
    const c = createCipheriv('aes-256-gcm', key, iv);
    const ct = Buffer.concat([c.update(bundle), c.final()]);
    return { ciphertext: ct, tag: c.getAuthTag() };
  })();
  // The floors: an ephemeral key (to seal) or the sender's imported (to open), one ECDH, one hash,
  // AES-256-GCM over the bundle; no key wrap, no JOSE encoding.
  const floorSeal = () => {
    const e = ephemeralOf();
    const z = diffieHellman({ privateKey: e.privateKey, publicKey: recipient });
    const c = createCipheriv('aes-256-gcm', createHash('sha256').update(z).digest(), iv);
    c.update(bundle);
    c.final();
    return c.getAuthTag();
  };
  const floorOpen = () => {
    diffieHellman({ privateKey: own, publicKey: createPublicKey({ key: epkJwk, format: 'jwk' }) });
    const d = createDecipheriv('aes-256-gcm', key, iv);
    d.setAuthTag(tag);
    return Buffer.concat([d.update(ciphertext), d.final()]);
  };
  const lines: [string, () => unknown][] = [
    [`seal 19 KB ${crv} — hdx`, () => sealPayload(bundle, pair.publicJwk)],
    [`seal 19 KB ${crv} — jose 6`, () => new CompactEncrypt(bundle).setProtectedHeader(header).encrypt(joseEnc)],
    [`seal 19 KB ${crv} — node:crypto floor`, floorSeal],
    [`open 19 KB ${crv} — hdx`, () => openPayload(jwe, pair.privateJwk)],
    [`open 19 KB ${crv} — jose 6`, () => compactDecrypt(jwe, joseDec)],
    [`open 19 KB ${crv} — node:crypto floor`, floorOpen],
  ];
  const out: BenchLine[] = [];
  for (const [name, op] of lines) out.push({ name, value: await perCpuSecond(seconds, op), unit: 'ops/CPU-s', ...againstFloor(name) });
  return out;
}

/** `openssl speed` for the same primitives (one core), when the binary is there. */
function opensslLines(seconds: number): BenchLine[] {
  const run = (args: string[]) => {
    try {
      return execFileSync('openssl', ['speed', '-seconds', String(seconds), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return undefined;
    }
  };
  const out: BenchLine[] = [];
  const ecdsa = run(['ecdsap256']);
  const row = ecdsa?.match(/256 bits ecdsa \(nistp256\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)\s+([\d.]+)/);
  if (row) {
    out.push({ name: 'ES256 sign — openssl speed', value: Number(row[1]), unit: 'ops/s', note: 'ECDSA P-256, 1 core' });
    out.push({ name: 'ES256 verify — openssl speed', value: Number(row[2]), unit: 'ops/s', note: 'ECDSA P-256, 1 core' });
  }
  const eddsa = run(['ed25519']);
  const ed = eddsa?.match(/253 bits EdDSA \(Ed25519\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)\s+([\d.]+)/);
  if (ed) {
    out.push({ name: 'EdDSA sign — openssl speed', value: Number(ed[1]), unit: 'ops/s', note: 'Ed25519, 1 core' });
    out.push({ name: 'EdDSA verify — openssl speed', value: Number(ed[2]), unit: 'ops/s', note: 'Ed25519, 1 core' });
  }
  for (const [arg, label, re] of [
    ['ecdhp256', 'P-256', /256 bits ecdh \(nistp256\)\s+[\d.]+s\s+([\d.]+)/],
    ['ecdhx25519', 'X25519', /253 bits ecdh \(X25519\)\s+[\d.]+s\s+([\d.]+)/],
  ] as const) {
    const m = run([arg])?.match(re);
    if (m) out.push({ name: `ECDH ${label} — openssl speed`, value: Number(m[1]), unit: 'ops/s', note: 'one key agreement, 1 core; a seal does one plus a key generation' });
  }
  return out;
}

export async function bench(options: BenchOptions): Promise<BenchLine[]> {
  const seconds = options.quick ? 0.2 : 2;
  return [
    ...(await signatureLines('ES256', seconds)),
    ...(await signatureLines('EdDSA', seconds)),
    ...(await sealLines('P-256', seconds)),
    ...(await sealLines('X25519', seconds)),
    ...opensslLines(options.quick ? 1 : 3),
  ];
}
