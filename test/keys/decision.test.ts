import { SignJWT, importJWK, type JSONWebKeySet } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { digestOf } from '../../keys/canonical.js';
import { VerificationError } from '../../keys/errors.js';
import {
  DECISION_TYP,
  decisionDigestOf,
  peekDecisionIssuer,
  signDecision,
  verifyDecision,
  type DecisionClaimsInput,
} from '../../keys/formats/decision.js';
import { amountOf, fenOf, fenOfDecimal } from '../../keys/formats/money.js';
import { generateSigningKey, type JwkPair } from '../../keys/jose-keys.js';

const GATEWAY = 'spiffe://hdx.local/gateway/gateway';
const INSURER = 'spiffe://hdx.local/insurer/taikang-online';
const OTHER_INSURER = 'spiffe://hdx.local/insurer/pingan-health';
const ENVELOPE_DIGEST = digestOf('envelope');

let insurer: JwkPair;
let other: JwkPair;
const jwks = (...pairs: JwkPair[]): JSONWebKeySet => ({ keys: pairs.map((p) => p.publicJwk) });

beforeAll(() => {
  insurer = generateSigningKey('ES256');
  other = generateSigningKey('EdDSA');
});

function claims(overrides: Partial<DecisionClaimsInput['hdx']> = {}): DecisionClaimsInput {
  return {
    iss: INSURER,
    aud: GATEWAY,
    jti: 'dec-0001',
    hdx: {
      transfer: 'trf-0001',
      submission: 'sub-0001',
      envelopeDigest: ENVELOPE_DIGEST,
      outcome: 'partially-approved',
      currency: 'CNY',
      amounts: {
        totalCharges: '9474.68',
        socialInsurancePaid: '4890.83',
        patientPaid: '4583.85',
        payable: '3200.00',
        patientRemainder: '1383.85',
      },
      adjustments: [{ line: 'ci-7', category: 'material', claimed: '3371.29', allowed: '3000.00', reason: 'category-limit' }],
      reasons: ['deductible', 'coverage-ratio'],
      explanation: '本次住院总费用9474.68元，医保已支付4890.83元，我司赔付3200.00元，您还需支付1383.85元。',
      decidedAt: '2026-03-01T08:00:03Z',
      ...overrides,
    },
  };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof VerificationError) return e.code;
    if (e instanceof TypeError) return 'TypeError';
    throw e;
  }
  return 'no error';
}

/** Signs arbitrary claims with the insurer's key, bypassing the signer's checks (a buggy or hostile insurer). */
async function signRaw(payload: Record<string, unknown>): Promise<string> {
  const key = await importJWK(insurer.privateJwk, 'ES256');
  return new SignJWT({ iat: Math.floor(Date.now() / 1000), ...payload })
    .setProtectedHeader({ alg: 'ES256', kid: insurer.publicJwk.kid!, typ: DECISION_TYP })
    .sign(key);
}

describe('settlement decision', () => {
  it('round-trips, with typ and kid in the header, and checks transfer and envelope when asked', async () => {
    const jws = await signDecision(claims(), insurer.privateJwk);
    const verified = await verifyDecision(jws, jwks(insurer), {
      audience: GATEWAY,
      issuer: INSURER,
      transfer: 'trf-0001',
      envelopeDigest: ENVELOPE_DIGEST,
    });
    expect(verified).toMatchObject(claims());
    expect(verified.hdx.revisionOf).toBeUndefined();
    const header = JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString());
    expect(header).toEqual({ alg: 'ES256', kid: insurer.publicJwk.kid, typ: DECISION_TYP });
    expect(decisionDigestOf(jws)).toBe(digestOf(jws));
    expect(peekDecisionIssuer(jws)).toBe(INSURER);
    expect(peekDecisionIssuer('not a token')).toBeUndefined();
  });

  it('carries revisionOf and signs with EdDSA too', async () => {
    const jws = await signDecision({ ...claims({ revisionOf: 'dec-0000' }), iss: OTHER_INSURER }, other.privateJwk);
    const verified = await verifyDecision(jws, jwks(other), { audience: GATEWAY });
    expect(verified.hdx.revisionOf).toBe('dec-0000');
  });

  it('refuses another transfer, another envelope, another audience, another issuer’s key, a tampered amount', async () => {
    const jws = await signDecision(claims(), insurer.privateJwk);
    expect(await code(verifyDecision(jws, jwks(insurer), { audience: GATEWAY, transfer: 'trf-0002' }))).toBe('ERR_DIGEST');
    expect(await code(verifyDecision(jws, jwks(insurer), { audience: GATEWAY, envelopeDigest: digestOf('x') }))).toBe('ERR_DIGEST');
    expect(await code(verifyDecision(jws, jwks(insurer), { audience: INSURER }))).toBe('ERR_AUDIENCE');
    expect(await code(verifyDecision(jws, jwks(other), { audience: GATEWAY }))).toBe('ERR_KEY');
    const [h, p, s] = jws.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    payload.hdx.amounts.payable = '4583.85';
    payload.hdx.amounts.patientRemainder = '0.00';
    const tampered = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    expect(await code(verifyDecision(tampered, jwks(insurer), { audience: GATEWAY }))).toBe('ERR_SIGNATURE');
  });

  it('refuses amounts that do not add up, on signing (TypeError) and verifying (ERR_MALFORMED)', async () => {
    const bad = claims();
    bad.hdx.amounts = { ...bad.hdx.amounts, patientRemainder: '1383.86' };
    expect(await code(signDecision(bad, insurer.privateJwk))).toBe('TypeError');
    expect(await code(verifyDecision(await signRaw(bad as never), jwks(insurer), { audience: GATEWAY }))).toBe('ERR_MALFORMED');

    const split = claims();
    split.hdx.amounts = { ...split.hdx.amounts, socialInsurancePaid: '4890.84' };
    expect(await code(signDecision(split, insurer.privateJwk))).toBe('TypeError');
  });

  it('refuses a declined or needs-more-information decision that pays something', async () => {
    for (const outcome of ['declined', 'needs-more-information'] as const) {
      expect(await code(signDecision(claims({ outcome }), insurer.privateJwk))).toBe('TypeError');
    }
    const declined = claims({
      outcome: 'declined',
      amounts: { totalCharges: '100.00', socialInsurancePaid: '60.00', patientPaid: '40.00', payable: '0.00', patientRemainder: '40.00' },
    });
    await expect(signDecision(declined, insurer.privateJwk)).resolves.toMatch(/\./);
  });

  it('refuses malformed members: amounts as numbers, an unknown outcome or currency, allowed above claimed, empty explanation', async () => {
    const cases: Array<Partial<DecisionClaimsInput['hdx']>> = [
      { amounts: { ...claims().hdx.amounts, payable: 3200 as unknown as string } },
      { amounts: { ...claims().hdx.amounts, payable: '3200.5' } },
      { amounts: { ...claims().hdx.amounts, payable: '-1.00' } },
      { outcome: 'paid' as never },
      { currency: 'USD' as never },
      { adjustments: [{ line: 'ci-1', claimed: '1.00', allowed: '2.00', reason: 'x' }] },
      { adjustments: [{ line: 'ci-1', claimed: '1.00', allowed: '0.50', reason: 'not a code!' }] },
      { reasons: ['a', 'a'] },
      { explanation: '   ' },
      { explanation: 'a\u0000b' },
      { explanation: '字'.repeat(2001) },
      { decidedAt: 'yesterday' },
      { envelopeDigest: 'md5:abc' },
    ];
    for (const hdx of cases) {
      const c = claims(hdx);
      expect(await code(signDecision(c, insurer.privateJwk)), JSON.stringify(hdx).slice(0, 80)).toBe('TypeError');
      expect(await code(verifyDecision(await signRaw(c as never), jwks(insurer), { audience: GATEWAY }))).toBe('ERR_MALFORMED');
    }
    expect(await code(signDecision({ ...claims(), jti: 'dec-1', hdx: { ...claims().hdx, revisionOf: 'dec-1' } }, insurer.privateJwk))).toBe(
      'TypeError',
    );
  });

  it('accepts a 2,000-character explanation with line breaks and drops unknown members', async () => {
    const jws = await signRaw({ ...claims({ explanation: `第一行\n${'字'.repeat(1996)}` }), extra: 'x' } as never);
    const verified = await verifyDecision(jws, jwks(insurer), { audience: GATEWAY });
    expect([...verified.hdx.explanation]).toHaveLength(2000);
    expect(verified).not.toHaveProperty('extra');
  });

  it('error messages never quote the explanation or amounts', async () => {
    const c = claims({ explanation: '张三 110101199003071234' });
    c.hdx.amounts = { ...c.hdx.amounts, patientRemainder: '9999.99' };
    try {
      await verifyDecision(await signRaw(c as never), jwks(insurer), { audience: GATEWAY });
      expect.unreachable();
    } catch (e) {
      expect(String((e as Error).message)).not.toMatch(/张三|1101|9999/);
    }
  });
});

describe('money', () => {
  it('converts between amounts and fen exactly', () => {
    expect(fenOf('9474.68')).toBe(947468);
    expect(fenOf('0.05')).toBe(5);
    expect(amountOf(947468)).toBe('9474.68');
    expect(amountOf(5)).toBe('0.05');
    expect(amountOf(0)).toBe('0.00');
    expect(() => fenOf('1.5')).toThrow(TypeError);
    expect(() => fenOf('01.50')).toThrow(TypeError);
    expect(() => amountOf(-1)).toThrow(TypeError);
    expect(() => amountOf(1.5)).toThrow(TypeError);
  });

  it('reads FHIR decimals without floating-point drift', () => {
    expect(fenOfDecimal(4.35)).toBe(435);
    expect(fenOfDecimal(420.1)).toBe(42010);
    expect(fenOfDecimal(1.005)).toBe(101);
    expect(fenOfDecimal(0)).toBe(0);
    expect(fenOfDecimal(-1)).toBeUndefined();
    expect(fenOfDecimal('4.35')).toBeUndefined();
  });
});
