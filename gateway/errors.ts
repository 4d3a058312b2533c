/**
 * The gateway's errors, one module of the project's taxonomy (`keys/coded-error.ts`). Domain code throws
 * these; `gateway/transport/status.ts` maps them, with every other module's codes, to gRPC status codes in
 * exactly one place. Messages are safe to show to the caller and to log: they never
 * contain health data or identifiers (name the field, not its value).
 */
import { CodedError } from '../keys/coded-error.js';

export const HDX_ERROR_CODES = [
  'INVALID_INPUT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'NO_CONSENT',
  'PRECONDITION',
  'TOO_LARGE',
  'UNAVAILABLE',
  'INTERNAL',
] as const;
export type HdxErrorCode = (typeof HDX_ERROR_CODES)[number];

export class HdxError extends CodedError<HdxErrorCode> {
  static override code: HdxErrorCode = 'INTERNAL';
  constructor(message: string, options?: { cause?: unknown }) {
    super((new.target as typeof HdxError).code, message, options);
  }
}

/** The request is malformed: bad FHIR, a missing field, a value out of range. */
export class InvalidInput extends HdxError {
  static override code = 'INVALID_INPUT' as const;
}

/** The caller could not be identified (no certificate, unknown party). */
export class Unauthenticated extends HdxError {
  static override code = 'UNAUTHENTICATED' as const;
}

/** The caller is known but may not do this (wrong role, someone else's resource). */
export class Forbidden extends HdxError {
  static override code = 'FORBIDDEN' as const;
}

export class NotFound extends HdxError {
  static override code = 'NOT_FOUND' as const;
}

/** The request conflicts with existing state (e.g. an idempotency key reused for a different request). */
export class Conflict extends HdxError {
  static override code = 'CONFLICT' as const;
}

/** No live consent covers the record: nothing is stored, the denial is audited. */
export class NoConsent extends HdxError {
  static override code = 'NO_CONSENT' as const;
}

/** The system is not in a state that allows the operation (e.g. acknowledging an undelivered transfer). */
export class PreconditionFailed extends HdxError {
  static override code = 'PRECONDITION' as const;
}

export class TooLarge extends HdxError {
  static override code = 'TOO_LARGE' as const;
}

export class Unavailable extends HdxError {
  static override code = 'UNAVAILABLE' as const;
  /** When the caller may usefully try again, sent as `grpc-retry-pushback-ms`. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/**
 * Another transaction (another replica) committed the same idempotency key first: the database's unique key
 * refused the second. The domain catches it and replays the first answer; should it escape, it is a conflict.
 */
export class IdempotencyKeyTaken extends Conflict {}
