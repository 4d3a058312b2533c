/**
 * One taxonomy, one mapping: every code of every module's errors has the gRPC status it should, a coded
 * error's message reaches the caller only when the status is not INTERNAL, and every error class the
 * modules export carries a code of its module (so a new class or code without a mapping fails here).
 */
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import * as complianceErrors from '../../compliance/errors.js';
import * as gatewayErrors from '../../gateway/errors.js';
import * as deidErrors from '../../gateway/deid/engine/errors.js';
import { STATUS_TABLES, statusOf, toWireError } from '../../gateway/transport/status.js';
import { CodedError } from '../../keys/coded-error.js';
import * as keysErrors from '../../keys/errors.js';
import * as transparencyErrors from '../../keys/transparency/errors.js';

const S = status;
const EXPECTED = {
  gateway: {
    INVALID_INPUT: S.INVALID_ARGUMENT,
    UNAUTHENTICATED: S.UNAUTHENTICATED,
    FORBIDDEN: S.PERMISSION_DENIED,
    NOT_FOUND: S.NOT_FOUND,
    CONFLICT: S.ALREADY_EXISTS,
    NO_CONSENT: S.FAILED_PRECONDITION,
    PRECONDITION: S.FAILED_PRECONDITION,
    TOO_LARGE: S.RESOURCE_EXHAUSTED,
    UNAVAILABLE: S.UNAVAILABLE,
    INTERNAL: S.INTERNAL,
  },
  keys: {
    ERR_KEYS: S.INTERNAL,
    ERR_PARTY_URI: S.INVALID_ARGUMENT,
    ERR_REGISTRY: S.INTERNAL,
    ERR_JWK: S.INVALID_ARGUMENT,
    ERR_UNKNOWN_PARTY: S.NOT_FOUND,
    ERR_NO_VALID_KEY: S.FAILED_PRECONDITION,
    ERR_CERTIFICATE: S.UNAUTHENTICATED,
    ERR_EXCHANGE_EXISTS: S.ALREADY_EXISTS,
    ERR_EXCHANGE_INVALID: S.INTERNAL,
    ERR_EXCHANGE_BUSY: S.UNAVAILABLE,
    ERR_VERIFICATION: S.INVALID_ARGUMENT,
    ERR_MALFORMED: S.INVALID_ARGUMENT,
    ERR_ALG: S.INVALID_ARGUMENT,
    ERR_TYP: S.INVALID_ARGUMENT,
    ERR_KEY: S.INVALID_ARGUMENT,
    ERR_SIGNATURE: S.INVALID_ARGUMENT,
    ERR_ISSUER: S.INVALID_ARGUMENT,
    ERR_AUDIENCE: S.INVALID_ARGUMENT,
    ERR_EXPIRED: S.INVALID_ARGUMENT,
    ERR_NOT_YET_VALID: S.INVALID_ARGUMENT,
    ERR_DIGEST: S.INVALID_ARGUMENT,
    ERR_DECRYPT: S.INVALID_ARGUMENT,
  },
  transparency: {
    ERR_TRANSPARENCY: S.INTERNAL,
    ERR_PROOF_INVALID: S.INVALID_ARGUMENT,
    ERR_NOTE_MALFORMED: S.INVALID_ARGUMENT,
    ERR_NOTE_SIGNATURE: S.INVALID_ARGUMENT,
    ERR_NOTE_UNVERIFIED: S.INVALID_ARGUMENT,
    ERR_KEY_MALFORMED: S.INVALID_ARGUMENT,
    ERR_CHECKPOINT_MALFORMED: S.INVALID_ARGUMENT,
    ERR_ORIGIN_MISMATCH: S.INVALID_ARGUMENT,
  },
  compliance: {
    ERR_COMPLIANCE: S.INTERNAL,
    ERR_EVIDENCE_MALFORMED: S.INVALID_ARGUMENT,
    ERR_EVENT_MALFORMED: S.DATA_LOSS,
    ERR_CHAIN: S.DATA_LOSS,
  },
} as const;

const MODULES = {
  gateway: { codes: gatewayErrors.HDX_ERROR_CODES, base: gatewayErrors.HdxError, exports: [gatewayErrors, deidErrors] },
  keys: { codes: keysErrors.KEYS_ERROR_CODES, base: keysErrors.KeysError, exports: [keysErrors] },
  transparency: {
    codes: transparencyErrors.TRANSPARENCY_ERROR_CODES,
    base: transparencyErrors.TransparencyError,
    exports: [transparencyErrors],
  },
  compliance: { codes: complianceErrors.COMPLIANCE_ERROR_CODES, base: complianceErrors.ComplianceError, exports: [complianceErrors] },
} as const;

type CodedClass = (new (...args: never[]) => CodedError) & { code: string };

/** An instance of `cls` carrying `code`, whatever the class's constructor arguments are. */
function instance(cls: CodedClass, code: string): CodedError {
  const error = Object.create(cls.prototype) as CodedError;
  return Object.assign(error, { code, message: `check ${code} failed` });
}

describe('error taxonomy → gRPC status', () => {
  for (const [module, { codes, base, exports }] of Object.entries(MODULES)) {
    const expected: Record<string, status> = EXPECTED[module as keyof typeof EXPECTED];

    it(`${module}: the mapping covers exactly the module's codes`, () => {
      expect(Object.keys(STATUS_TABLES[module as keyof typeof STATUS_TABLES]).sort()).toEqual([...codes].sort());
      expect(Object.keys(expected).sort()).toEqual([...codes].sort());
    });

    it(`${module}: every code maps to its status, and only INTERNAL hides the message`, () => {
      for (const code of codes) {
        const wire = toWireError(instance(base as unknown as CodedClass, code));
        expect({ code, status: wire.code }).toEqual({ code, status: expected[code] });
        expect(wire.code).not.toBe(S.UNKNOWN);
        expect(wire.details).toBe(wire.code === S.INTERNAL ? 'internal error' : `check ${code} failed`);
        expect(wire.internal).toBe(wire.code === S.INTERNAL);
      }
    });

    it(`${module}: every exported error class derives from the base and has one of its codes`, () => {
      const classes = exports
        .flatMap((m) => Object.values(m))
        .filter((v): v is CodedClass => typeof v === 'function' && v.prototype instanceof Error);
      expect(classes.length).toBeGreaterThan(0);
      for (const cls of classes) {
        expect(cls === base || cls.prototype instanceof base, cls.name).toBe(true);
        expect(codes as readonly string[], cls.name).toContain(cls.code);
        expect(statusOf(instance(cls, cls.code)), cls.name).toBe(expected[cls.code]);
      }
    });
  }

  it('constructors set code and name from the class and keep the cause', () => {
    const cause = new Error('underlying');
    const invalid = new gatewayErrors.InvalidInput('bundle is not JSON', { cause });
    expect([invalid.code, invalid.name, invalid.cause]).toEqual(['INVALID_INPUT', 'InvalidInput', cause]);
    const verification = new keysErrors.VerificationError('ERR_AUDIENCE', 'token is not addressed to this party', { cause });
    expect([verification.code, verification.name, verification.cause]).toEqual(['ERR_AUDIENCE', 'VerificationError', cause]);
    const noKey = new keysErrors.NoValidKey('no encryption key is valid now');
    expect([noKey.code, toWireError(noKey).code]).toEqual(['ERR_NO_VALID_KEY', S.FAILED_PRECONDITION]);
    const proof = new transparencyErrors.ProofError('root-mismatch', 'inclusion proof does not verify', { cause });
    expect([proof.code, proof.failure, proof.cause]).toEqual(['ERR_PROOF_INVALID', 'root-mismatch', cause]);
    const chain = new complianceErrors.ChainBreak(7, 'event 7 is missing');
    expect([chain.code, chain.seq, chain.name]).toEqual(['ERR_CHAIN', 7, 'ChainBreak']);
  });

  it('anything that is not a coded error is INTERNAL with no details', () => {
    for (const error of [new Error('secret 110101199003078515'), new TypeError('x'), 'string', undefined, { code: 'INVALID_INPUT' }]) {
      expect(toWireError(error)).toMatchObject({ code: S.INTERNAL, details: 'internal error', internal: true });
    }
  });

  it('UNAVAILABLE keeps its retry hint', () => {
    expect(toWireError(new gatewayErrors.Unavailable('busy', { retryAfterMs: 12.2 }))).toEqual({
      code: S.UNAVAILABLE,
      details: 'busy',
      internal: false,
      retryAfterMs: 13,
    });
  });
});
