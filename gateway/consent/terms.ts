/**
 * Consent terms as the domain sees them, and their validation. Messages name the field at fault,
 * never its value.
 */
import { InvalidInput } from '../errors.js';

export const PURPOSES = ['DIRECT_SETTLEMENT', 'CLAIM', 'STATISTICS'] as const;
export type Purpose = (typeof PURPOSES)[number];

export const DATA_CATEGORIES = ['encounter', 'diagnosis', 'procedure', 'medication', 'lab', 'charges', 'notes'] as const;
export type DataCategory = (typeof DATA_CATEGORIES)[number];

export interface ConsentCapture {
  channel: string;
  capturedAt: Date;
  noticeVersion: string;
  formDigest: string;
}

export interface ConsentTerms {
  insurerId: string;
  policyNumber: string;
  purpose: Purpose;
  categories: DataCategory[];
  hospitalIds: string[];
  anyHospital: boolean;
  validFrom: Date;
  validUntil: Date;
  capture: ConsentCapture;
}

const DIGEST = /^sha256:[A-Za-z0-9_-]{43}$/;
const TOKEN = /^[\p{L}\p{N}][\p{L}\p{N}._\-/ ]{0,63}$/u;
const MAX_VALIDITY_MS = 10 * 366 * 24 * 3600 * 1000;

function need(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvalidInput(message);
}

export function validDate(value: Date | undefined, field: string): Date {
  need(value instanceof Date && !Number.isNaN(value.getTime()), `${field} is required`);
  return value;
}

/** Checks the shape of terms; whether parties exist is checked against the registry by the caller. */
export function validateTerms(terms: ConsentTerms): ConsentTerms {
  need(terms.insurerId, 'terms.insurer_id is required');
  need(TOKEN.test(terms.policyNumber), 'terms.policy_number must be 1-64 letters, digits or ._-/');
  need(PURPOSES.includes(terms.purpose), 'terms.purpose is required');
  need(terms.categories.length > 0, 'terms.categories must name at least one data category');
  need(new Set(terms.categories).size === terms.categories.length, 'terms.categories has duplicates');
  for (const c of terms.categories) need(DATA_CATEGORIES.includes(c), 'terms.categories has an unknown category');
  need(
    terms.anyHospital ? terms.hospitalIds.length === 0 : terms.hospitalIds.length > 0,
    'terms must name hospitals or set any_hospital, not both',
  );
  const from = validDate(terms.validFrom, 'terms.valid_from');
  const until = validDate(terms.validUntil, 'terms.valid_until');
  need(until > from, 'terms.valid_until must be after valid_from');
  need(until.getTime() - from.getTime() <= MAX_VALIDITY_MS, 'terms validity may not exceed ten years');
  const capture = terms.capture;
  need(capture && TOKEN.test(capture.channel), 'terms.capture.channel is required');
  validDate(capture.capturedAt, 'terms.capture.captured_at');
  need(TOKEN.test(capture.noticeVersion), 'terms.capture.notice_version is required');
  need(DIGEST.test(capture.formDigest), 'terms.capture.form_digest must be sha256:<base64url>');
  return terms;
}

/** The canonical, comparable form of terms (what the consent receipt's digest covers). */
export function termsForDigest(terms: ConsentTerms): Record<string, unknown> {
  return {
    insurer: terms.insurerId,
    policyNumber: terms.policyNumber,
    purpose: terms.purpose,
    categories: [...terms.categories].sort(),
    hospitals: [...terms.hospitalIds].sort(),
    anyHospital: terms.anyHospital,
    validFrom: terms.validFrom.toISOString(),
    validUntil: terms.validUntil.toISOString(),
    capture: {
      channel: terms.capture.channel,
      capturedAt: terms.capture.capturedAt.toISOString(),
      noticeVersion: terms.capture.noticeVersion,
      formDigest: terms.capture.formDigest,
    },
  };
}
