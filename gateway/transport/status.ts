/**
 * The one place where errors become gRPC statuses: every code of every module of the taxonomy
 * (`keys/coded-error.ts`) has its status here, so a keys or verification error that escapes a handler
 * gets its own status rather than INTERNAL. Coded errors carry safe messages by contract; anything else,
 * and every code mapped to INTERNAL, is an internal error whose details stay in the (scrubbed) log, never
 * on the wire.
 */
import { status } from '@grpc/grpc-js';
import { ComplianceError, type ComplianceErrorCode } from '../../compliance/errors.js';
import { CodedError } from '../../keys/coded-error.js';
import { KeysError, type KeysErrorCode } from '../../keys/errors.js';
import { TransparencyError, type TransparencyErrorCode } from '../../keys/transparency/errors.js';
import { HdxError, Unavailable, type HdxErrorCode } from '../errors.js';

const GATEWAY: Record<HdxErrorCode, status> = {
  INVALID_INPUT: status.INVALID_ARGUMENT,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  FORBIDDEN: status.PERMISSION_DENIED,
  NOT_FOUND: status.NOT_FOUND,
  CONFLICT: status.ALREADY_EXISTS,
  NO_CONSENT: status.FAILED_PRECONDITION,
  PRECONDITION: status.FAILED_PRECONDITION,
  TOO_LARGE: status.RESOURCE_EXHAUSTED,
  UNAVAILABLE: status.UNAVAILABLE,
  INTERNAL: status.INTERNAL,
};

const KEYS: Record<KeysErrorCode, status> = {
  ERR_KEYS: status.INTERNAL,
  // A party URI or a JWK reaches the gateway only from a request (a registry's are checked at load).
  ERR_PARTY_URI: status.INVALID_ARGUMENT,
  ERR_JWK: status.INVALID_ARGUMENT,
  ERR_UNKNOWN_PARTY: status.NOT_FOUND,
  // The party is registered but has no key valid now: fixed by the registry, not by retrying.
  ERR_NO_VALID_KEY: status.FAILED_PRECONDITION,
  ERR_CERTIFICATE: status.UNAUTHENTICATED,
  // The gateway's own files: ours to fix.
  ERR_REGISTRY: status.INTERNAL,
  ERR_EXCHANGE_INVALID: status.INTERNAL,
  ERR_EXCHANGE_EXISTS: status.ALREADY_EXISTS,
  ERR_EXCHANGE_BUSY: status.UNAVAILABLE,
  // A token the caller sent does not verify: its fault, and the message names the check.
  ERR_VERIFICATION: status.INVALID_ARGUMENT,
  ERR_MALFORMED: status.INVALID_ARGUMENT,
  ERR_ALG: status.INVALID_ARGUMENT,
  ERR_TYP: status.INVALID_ARGUMENT,
  ERR_KEY: status.INVALID_ARGUMENT,
  ERR_SIGNATURE: status.INVALID_ARGUMENT,
  ERR_ISSUER: status.INVALID_ARGUMENT,
  ERR_AUDIENCE: status.INVALID_ARGUMENT,
  ERR_EXPIRED: status.INVALID_ARGUMENT,
  ERR_NOT_YET_VALID: status.INVALID_ARGUMENT,
  ERR_DIGEST: status.INVALID_ARGUMENT,
  ERR_DECRYPT: status.INVALID_ARGUMENT,
};

const TRANSPARENCY: Record<TransparencyErrorCode, status> = {
  ERR_TRANSPARENCY: status.INTERNAL,
  // Proofs, notes, checkpoints and key strings the gateway is asked to check.
  ERR_PROOF_INVALID: status.INVALID_ARGUMENT,
  ERR_NOTE_MALFORMED: status.INVALID_ARGUMENT,
  ERR_NOTE_SIGNATURE: status.INVALID_ARGUMENT,
  ERR_NOTE_UNVERIFIED: status.INVALID_ARGUMENT,
  ERR_KEY_MALFORMED: status.INVALID_ARGUMENT,
  ERR_CHECKPOINT_MALFORMED: status.INVALID_ARGUMENT,
  ERR_ORIGIN_MISMATCH: status.INVALID_ARGUMENT,
};

const COMPLIANCE: Record<ComplianceErrorCode, status> = {
  ERR_COMPLIANCE: status.INTERNAL,
  ERR_EVIDENCE_MALFORMED: status.INVALID_ARGUMENT,
  // The log read back does not hold together: stored data is damaged.
  ERR_EVENT_MALFORMED: status.DATA_LOSS,
  ERR_CHAIN: status.DATA_LOSS,
};

/** Every module's table, for the test that checks each code. */
export const STATUS_TABLES = { gateway: GATEWAY, keys: KEYS, transparency: TRANSPARENCY, compliance: COMPLIANCE } as const;

/** The gRPC status of a coded error of any module; undefined for anything else. */
export function statusOf(error: unknown): status | undefined {
  if (!(error instanceof CodedError)) return undefined;
  const table: Record<string, status> | undefined =
    error instanceof HdxError
      ? GATEWAY
      : error instanceof KeysError
        ? KEYS
        : error instanceof TransparencyError
          ? TRANSPARENCY
          : error instanceof ComplianceError
            ? COMPLIANCE
            : undefined;
  return table?.[error.code];
}

export interface WireError {
  code: status;
  details: string;
  /** True when the error is ours to fix (log it at error level). */
  internal: boolean;
  /** For UNAVAILABLE: when to try again (sent as the RETRY_PUSHBACK_METADATA trailer). */
  retryAfterMs?: number;
}

export function toWireError(error: unknown): WireError {
  const code = statusOf(error);
  if (code !== undefined && code !== status.INTERNAL) {
    const retryAfterMs = error instanceof Unavailable ? error.retryAfterMs : undefined;
    const wire: WireError = { code, details: (error as Error).message, internal: false };
    return retryAfterMs === undefined ? wire : { ...wire, retryAfterMs: Math.ceil(retryAfterMs) };
  }
  if (isSqliteBusy(error)) return { code: status.UNAVAILABLE, details: 'the gateway is busy; retry', internal: true };
  return { code: status.INTERNAL, details: 'internal error', internal: true };
}

function isSqliteBusy(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

/** The trailer that carries `retryAfterMs` (the name gRPC's own retry policy reads). */
export const RETRY_PUSHBACK_KEY = 'grpc-retry-pushback-ms';
