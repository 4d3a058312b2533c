/**
 * The officer's tools' errors, one module of the project's taxonomy (`keys/coded-error.ts`): what was
 * served or read does not hold together. Messages name the event, field or check, never a value.
 */
import { CodedError } from '../keys/coded-error.js';

export const COMPLIANCE_ERROR_CODES = ['ERR_COMPLIANCE', 'ERR_EVIDENCE_MALFORMED', 'ERR_EVENT_MALFORMED', 'ERR_CHAIN'] as const;
export type ComplianceErrorCode = (typeof COMPLIANCE_ERROR_CODES)[number];

export class ComplianceError extends CodedError<ComplianceErrorCode> {
  static override code: ComplianceErrorCode = 'ERR_COMPLIANCE';
  constructor(message: string, options?: { cause?: unknown }) {
    super((new.target as typeof ComplianceError).code, message, options);
  }
}

/** An evidence file is not JSON or does not match its schema. */
export class EvidenceMalformed extends ComplianceError {
  static override code = 'ERR_EVIDENCE_MALFORMED' as const;
}

/** A logged event is not JSON or does not match the event schema. */
export class EventMalformed extends ComplianceError {
  static override code = 'ERR_EVENT_MALFORMED' as const;
}

/** The log does not hold together at `seq`. */
export class ChainBreak extends ComplianceError {
  static override code = 'ERR_CHAIN' as const;
  constructor(
    readonly seq: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
