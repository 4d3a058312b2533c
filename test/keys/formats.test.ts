import { SignJWT, UnsecuredJWT, importJWK, type JSONWebKeySet, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { digestOf } from '../../keys/canonical.js';
import { VerificationError } from '../../keys/errors.js';
import { sealPayload } from '../../keys/formats/payload.js';
import {
  CONSENT_RECEIPT_TYP,
  RECEIPT_TYP,
  envelopeDigestOf,
  signConsentReceipt,
  signReceipt,
  verifyConsentReceipt,
  verifyReceipt,
} from '../../keys/formats/receipt.js';
import { SUBMISSION_TYP, bundleDigestOf, signSubmission, verifySubmission } from '../../keys/formats/submission.js';
import {
  TRANSFER_ENVELOPE_TYP,
  payloadDigestOf,
  signTransferEnvelope,
  verifyTransferEnvelope,
  type TransferEnvelopeClaims,
} from '../../keys/formats/transfer-envelope.js';
import { generateEncryptionKey, generateSigningKey, type JwkPair } from '../../keys/jose-keys.js';

const GATEWAY = 'spiffe://hdx.local/gateway/gateway';
const HOSPITAL = 'spiffe://hdx.local/hospital/nanshan-people';
const INSURER = 'spiffe://hdx.local/insurer/taikang-online';
const OTHER_INSURER = 'spiffe://hdx.local/insurer/pingan-health';
const BUNDLE = new TextEncoder().encode('{"resourceType":"Bundle"}');

let gateway: JwkPair;
let gatewayEd: JwkPair;
let hospital: JwkPair;
let insurer: JwkPair;
let intruder: JwkPair;
let insurerEnc: JwkPair;
let jwe: string;
let otherJwe: string;

const jwks = (...pairs: JwkPair[]): JSONWebKeySet => ({ keys: pairs.map((p) => p.publicJwk) });

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof VerificationError)) throw e;
    expect(e.message).not.toMatch(/nanshan|taikang|spiffe/);
    return e.code;
  }
  return 'no error';
}

beforeAll(async () => {
  gateway = generateSigningKey('ES256');
  gatewayEd = generateSigningKey('EdDSA');
  hospital = generateSigningKey('ES256');
  insurer = generateSigningKey('ES256');
  intruder = generateSigningKey('ES256');
  insurerEnc = generateEncryptionKey('ECDH-ES+A256KW');
  jwe = await sealPayload(BUNDLE, insurerEnc.publicJwk);
  otherJwe = await sealPayload(BUNDLE, insurerEnc.publicJwk);
});

function envelopeClaims(): Omit<TransferEnvelopeClaims, 'iat'> {
  return {
    iss: GATEWAY,
    aud: INSURER,
    sub: 'pseud-8f3a',
    jti: 'tr-0001',
    hdx: {
      consent: 'cs-0001',
      purpose: 'DIRECT_SETTLEMENT',
      categories: ['encounter', 'diagnosis', 'charges'],
      hospital: HOSPITAL,
      submission: 'sub-0001',
      submittedAt: '2025-03-01T08:00:00.000Z',
      submissionDigest: digestOf('submission'),
      payloadDigest: payloadDigestOf(jwe),
      payloadKid: insurerEnc.publicJwk.kid!,
    },
  };
}

/** A format under test: how to sign a valid token, and how to verify one. */
interface Format {
  typ: string;
  signer: () => JwkPair;
  verifierJwks: () => JSONWebKeySet;
  claims: () => Record<string, unknown>;
  sign: (claims: never, key: JWK) => Promise<string>;
  verify: (jws: string, jwks: JSONWebKeySet, o: { audience: string; issuer?: string; maxAge?: number; currentDate?: Date }) => Promise<unknown>;
  audience: string;
  issuer: string;
  digestMismatch: (jws: string) => Promise<unknown>;
}

const formats: [string, () => Format][] = [
  [
    'transfer envelope',
    () => ({
      typ: TRANSFER_ENVELOPE_TYP,
      signer: () => gateway,
      verifierJwks: () => jwks(gateway),
      claims: envelopeClaims,
      sign: signTransferEnvelope as Format['sign'],
      verify: (jws, k, o) => verifyTransferEnvelope(jws, k, { ...o, payload: jwe }),
      audience: INSURER,
      issuer: GATEWAY,
      digestMismatch: (jws) => verifyTransferEnvelope(jws, jwks(gateway), { audience: INSURER, payload: otherJwe }),
    }),
  ],
  [
    'acknowledgement receipt',
    () => ({
      typ: RECEIPT_TYP,
      signer: () => insurer,
      verifierJwks: () => jwks(insurer),
      claims: () => ({ iss: INSURER, aud: GATEWAY, jti: 'tr-0001', hdx: { envelopeDigest: envelopeDigestOf('envelope'), receivedAt: '2025-03-01T08:00:01Z' } }),
      sign: signReceipt as Format['sign'],
      verify: (jws, k, o) => verifyReceipt(jws, k, { ...o, envelope: 'envelope' }),
      audience: GATEWAY,
      issuer: INSURER,
      digestMismatch: (jws) => verifyReceipt(jws, jwks(insurer), { audience: GATEWAY, envelope: 'another envelope' }),
    }),
  ],
  [
    'consent receipt',
    () => ({
      typ: CONSENT_RECEIPT_TYP,
      signer: () => gateway,
      verifierJwks: () => jwks(gateway),
      claims: () => ({ iss: GATEWAY, aud: HOSPITAL, jti: 'cs-0001', hdx: { action: 'granted', termsDigest: digestOf('terms'), at: '2025-03-01T07:00:00Z' } }),
      sign: signConsentReceipt as Format['sign'],
      verify: (jws, k, o) => verifyConsentReceipt(jws, k, { ...o, termsDigest: digestOf('terms') }),
      audience: HOSPITAL,
      issuer: GATEWAY,
      digestMismatch: (jws) => verifyConsentReceipt(jws, jwks(gateway), { audience: HOSPITAL, termsDigest: digestOf('other terms') }),
    }),
  ],
  [
    'submission',
    () => ({
      typ: SUBMISSION_TYP,
      signer: () => hospital,
      verifierJwks: () => jwks(hospital),
      claims: () => ({ iss: HOSPITAL, aud: GATEWAY, jti: 'idem-0001', hdx: { bundleDigest: bundleDigestOf(BUNDLE), purpose: 'DIRECT_SETTLEMENT' } }),
      sign: signSubmission as Format['sign'],
      verify: (jws, k, o) => verifySubmission(jws, k, { ...o, bundle: BUNDLE }),
      audience: GATEWAY,
      issuer: HOSPITAL,
      digestMismatch: (jws) => verifySubmission(jws, jwks(hospital), { audience: GATEWAY, bundle: new TextEncoder().encode('{}') }),
    }),
  ],
];

describe.each(formats)('%s', (_, formatOf) => {
  let f: Format;
  let jws: string;
  beforeAll(async () => {
    f = formatOf();
    jws = await f.sign(f.claims() as never, f.signer().privateJwk);
  });

  it('round-trips with typed claims, typ and kid in the header', async () => {
    const claims = (await f.verify(jws, f.verifierJwks(), { audience: f.audience, issuer: f.issuer })) as Record<string, unknown>;
    expect(claims).toMatchObject(f.claims());
    expect(typeof claims['iat']).toBe('number');
    const header = JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString());
    expect(header).toEqual({ alg: 'ES256', kid: f.signer().publicJwk.kid, typ: f.typ });
  });

  it('refuses a tampered payload', async () => {
    const [h, p, s] = jws.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    claims.jti = 'x-9999';
    const tampered = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
    expect(await failure(f.verify(tampered, f.verifierJwks(), { audience: f.audience }))).toBe('ERR_SIGNATURE');
  });

  it('refuses a wrong audience and a wrong issuer', async () => {
    expect(await failure(f.verify(jws, f.verifierJwks(), { audience: OTHER_INSURER }))).toBe('ERR_AUDIENCE');
    expect(await failure(f.verify(jws, f.verifierJwks(), { audience: f.audience, issuer: OTHER_INSURER }))).toBe('ERR_ISSUER');
  });

  it('refuses a token of another typ, even with a valid signature', async () => {
    const key = await importJWK(f.signer().privateJwk, 'ES256');
    const other = await new SignJWT({ ...f.claims(), iat: Math.floor(Date.now() / 1000) })
      .setProtectedHeader({ alg: 'ES256', kid: f.signer().publicJwk.kid!, typ: 'JWT' })
      .sign(key);
    expect(await failure(f.verify(other, f.verifierJwks(), { audience: f.audience }))).toBe('ERR_TYP');
  });

  it('refuses a key from another party (unknown kid, or a forged kid)', async () => {
    const byIntruder = await f.sign(f.claims() as never, intruder.privateJwk);
    expect(await failure(f.verify(byIntruder, f.verifierJwks(), { audience: f.audience }))).toBe('ERR_KEY');
    const forged = await f.sign(f.claims() as never, { ...intruder.privateJwk, kid: f.signer().publicJwk.kid! });
    expect(await failure(f.verify(forged, f.verifierJwks(), { audience: f.audience }))).toBe('ERR_SIGNATURE');
  });

  it('refuses alg none and HS256 (also with the public key as HMAC secret)', async () => {
    const none = new UnsecuredJWT({ ...f.claims(), iat: Math.floor(Date.now() / 1000) }).encode();
    const noneTyped = `${Buffer.from(JSON.stringify({ alg: 'none', typ: f.typ, kid: f.signer().publicJwk.kid })).toString('base64url')}.${none.split('.')[1]}.`;
    expect(await failure(f.verify(noneTyped, f.verifierJwks(), { audience: f.audience }))).toBe('ERR_ALG');
    expect(await failure(f.verify(none, f.verifierJwks(), { audience: f.audience }))).toBe('ERR_ALG');
    const secret = new TextEncoder().encode(JSON.stringify(f.signer().publicJwk));
    const hs = await new SignJWT({ ...f.claims(), iat: Math.floor(Date.now() / 1000) })
      .setProtectedHeader({ alg: 'HS256', kid: f.signer().publicJwk.kid!, typ: f.typ })
      .sign(secret);
    expect(await failure(f.verify(hs, f.verifierJwks(), { audience: f.audience }))).toBe('ERR_ALG');
  });

  it('refuses a digest mismatch', async () => {
    expect(await failure(f.digestMismatch(jws))).toBe('ERR_DIGEST');
  });

  it('refuses an old token when maxAge is set, and one issued in the future', async () => {
    const old = await f.sign({ ...f.claims(), iat: Math.floor(Date.now() / 1000) - 3600 } as never, f.signer().privateJwk);
    expect(await failure(f.verify(old, f.verifierJwks(), { audience: f.audience, maxAge: 600 }))).toBe('ERR_EXPIRED');
    await expect(f.verify(old, f.verifierJwks(), { audience: f.audience })).resolves.toBeDefined();
    const future = await f.sign({ ...f.claims(), iat: Math.floor(Date.now() / 1000) + 3600 } as never, f.signer().privateJwk);
    expect(await failure(f.verify(future, f.verifierJwks(), { audience: f.audience }))).toBe('ERR_NOT_YET_VALID');
  });

  it('refuses claims that do not match the schema, even when properly signed', async () => {
    const key = await importJWK(f.signer().privateJwk, 'ES256');
    const bad = { ...f.claims(), iat: Math.floor(Date.now() / 1000), hdx: { ...(f.claims()['hdx'] as object), extra: 1 } } as Record<string, unknown>;
    // drop one required hdx member
    const hdx = bad['hdx'] as Record<string, unknown>;
    delete hdx[Object.keys(hdx)[0]!];
    const jwt = await new SignJWT(bad).setProtectedHeader({ alg: 'ES256', kid: f.signer().publicJwk.kid!, typ: f.typ }).sign(key);
    expect(await failure(f.verify(jwt, f.verifierJwks(), { audience: f.audience }))).toBe('ERR_MALFORMED');
    expect(await failure(f.verify('not a token', f.verifierJwks(), { audience: f.audience }))).toBe('ERR_MALFORMED');
  });

  it('refuses to sign invalid claims or with a public key (caller misuse)', async () => {
    await expect(f.sign({ ...f.claims(), jti: '' } as never, f.signer().privateJwk)).rejects.toThrow(TypeError);
    await expect(f.sign(f.claims() as never, f.signer().publicJwk)).rejects.toThrow(TypeError);
  });
});

describe('transfer envelope specifics', () => {
  it('verifies EdDSA and during a rotation (two keys in the JWKS)', async () => {
    const jws = await signTransferEnvelope(envelopeClaims(), gatewayEd.privateJwk);
    const claims = await verifyTransferEnvelope(jws, jwks(gateway, gatewayEd), { audience: INSURER, payload: jwe });
    expect(claims.hdx.payloadKid).toBe(insurerEnc.publicJwk.kid);
  });

  it('refuses a payload whose kid differs from the envelope', async () => {
    const c = envelopeClaims();
    const jws = await signTransferEnvelope({ ...c, hdx: { ...c.hdx, payloadKid: 'another-kid' } }, gateway.privateJwk);
    expect(await failure(verifyTransferEnvelope(jws, jwks(gateway), { audience: INSURER, payload: jwe }))).toBe('ERR_DIGEST');
  });

  it('refuses an envelope whose issuer is not a gateway, or audience not an insurer', async () => {
    const key = await importJWK(gateway.privateJwk, 'ES256');
    const c = { ...envelopeClaims(), iss: HOSPITAL, iat: Math.floor(Date.now() / 1000) };
    const jws = await new SignJWT(c).setProtectedHeader({ alg: 'ES256', kid: gateway.publicJwk.kid!, typ: TRANSFER_ENVELOPE_TYP }).sign(key);
    expect(await failure(verifyTransferEnvelope(jws, jwks(gateway), { audience: INSURER, payload: jwe }))).toBe('ERR_MALFORMED');
    await expect(signTransferEnvelope({ ...envelopeClaims(), aud: HOSPITAL }, gateway.privateJwk)).rejects.toThrow(TypeError);
  });

  it('refuses an array audience even if it contains the verifier', async () => {
    const key = await importJWK(gateway.privateJwk, 'ES256');
    const c = { ...envelopeClaims(), aud: [INSURER, OTHER_INSURER], iat: Math.floor(Date.now() / 1000) };
    const jws = await new SignJWT(c).setProtectedHeader({ alg: 'ES256', kid: gateway.publicJwk.kid!, typ: TRANSFER_ENVELOPE_TYP }).sign(key);
    expect(await failure(verifyTransferEnvelope(jws, jwks(gateway), { audience: INSURER, payload: jwe }))).toBe('ERR_MALFORMED');
  });

  it('drops unknown claims from the result', async () => {
    const key = await importJWK(gateway.privateJwk, 'ES256');
    const c = { ...envelopeClaims(), iat: Math.floor(Date.now() / 1000), extra: 'x', hdx: { ...envelopeClaims().hdx, extra: 'y' } };
    const jws = await new SignJWT(c).setProtectedHeader({ alg: 'ES256', kid: gateway.publicJwk.kid!, typ: TRANSFER_ENVELOPE_TYP }).sign(key);
    const claims = await verifyTransferEnvelope(jws, jwks(gateway), { audience: INSURER, payload: jwe });
    expect(claims).not.toHaveProperty('extra');
    expect(claims.hdx).not.toHaveProperty('extra');
  });

  it('a consent revocation receipt round-trips', async () => {
    const jws = await signConsentReceipt(
      { iss: GATEWAY, aud: HOSPITAL, jti: 'cs-2', hdx: { action: 'revoked', termsDigest: digestOf('t'), at: '2025-03-02T00:00:00Z' } },
      gateway.privateJwk,
    );
    expect((await verifyConsentReceipt(jws, jwks(gateway), { audience: HOSPITAL })).hdx.action).toBe('revoked');
  });
});
