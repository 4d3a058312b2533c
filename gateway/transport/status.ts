/**
 * The one place where errors become gRPC statuses. Domain errors carry safe messages by contract;
 * anything else is an internal error whose details stay in the (scrubbed) log, never on the wire.
 */
import { status } from '@grpc/grpc-js';
import { HdxError, Unavailable, type HdxErrorCode } from '../errors.js';

const STATUS: Record<HdxErrorCode, status> = {
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

export interface WireError {
  code: status;
  details: string;
  /** True when the error is ours to fix (log it at error level). */
  internal: boolean;
  /** For UNAVAILABLE: when to try again (sent as the RETRY_PUSHBACK_METADATA trailer). */
  retryAfterMs?: number;
}

export function toWireError(error: unknown): WireError {
  if (error instanceof Unavailable && error.retryAfterMs !== undefined) {
    return { code: STATUS[error.code], details: error.message, internal: false, retryAfterMs: Math.ceil(error.retryAfterMs) };
  }
  if (error instanceof HdxError && error.code !== 'INTERNAL') {
    return { code: STATUS[error.code], details: error.message, internal: false };
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
