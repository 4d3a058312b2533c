/**
 * Consents in bulk: a CSV (header row) or NDJSON file of the consents the desk captured, recorded over one
 * session with a few calls in flight — one process per consent cost seconds each. Each row's idempotency key
 * is derived from its signed form's digest, insurer, policy and capture time, so importing a file again (after
 * a crash, or by mistake) records nothing twice. Results name the row, never the patient.
 *
 * Columns (CSV header or NDJSON keys): patient_id, insurer, policy, form_digest, captured_at (required);
 * purpose (DIRECT_SETTLEMENT), categories (";"-separated; default: what adjudication needs), hospitals
 * (";"-separated, "*" for any; default this hospital), valid_from (default: the China day of captured_at),
 * valid_until or valid_days (90, from valid_from), channel (deposit-desk), notice_version (v1). Times are ISO;
 * a bare date means 00:00 China time. Every field follows from the row alone — nothing from the clock — so a
 * second import sends the very same request under the same key.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { chinaTime as parseChinaTime, startOfChinaDay } from '../cli/runtime/values.js';
import { retryUnavailable } from '../proto/connect.js';
import { describeError, statusName } from '../proto/errors.js';
import { ADJUDICATION_CATEGORIES, CATEGORY_BY_NAME, grantConsent } from './consent.js';
import type { HospitalSession } from './session.js';
import { PURPOSE_BY_NAME } from './submit.js';
import type { ConsentTerms } from '../proto/gen/hdx/v1/consent.js';

export type ConsentRow = Record<string, string>;

export type ImportOutcome =
  | { row: number; ok: true; consentId: string; replayed: boolean }
  | { row: number; ok: false; status: string; reason: string };

const DAY_MS = 86_400_000;

/** Reads the rows of a .csv or .ndjson file (anything else is refused by name). */
export function readConsentRows(file: string): ConsentRow[] {
  const ext = extname(file).toLowerCase();
  if (!['.csv', '.ndjson', '.jsonl'].includes(ext)) throw new Error(`${ext || 'a file without extension'} is not a consent file: give .csv or .ndjson`);
  const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  if (ext === '.csv') {
    return parseCsv(text, { columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()), skip_empty_lines: true, trim: true }) as ConsentRow[];
  }
  return text.split(/\r?\n/).flatMap((line, index) => {
      if (line.trim() === '') return [];
      try {
        const value = JSON.parse(line) as Record<string, unknown>;
        return [Object.fromEntries(Object.entries(value).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(';') : String(v)]))];
      } catch {
        throw new Error(`line ${index + 1} is not valid JSON`);
      }
    });
}

/** A column's time, read as the CLI reads --valid-from (a bare date is 00:00 China time); errors name the column. */
function chinaTime(value: string, column: string): Date {
  try {
    return parseChinaTime(value);
  } catch (error) {
    throw new Error(`${column}: ${(error as Error).message}`);
  }
}

const list = (value: string | undefined): string[] => (value ?? '').split(/[;|]/).map((v) => v.trim()).filter((v) => v !== '');

function required(row: ConsentRow, column: string): string {
  const value = row[column]?.trim();
  if (!value) throw new Error(`${column}: required`);
  return value;
}

/** The grant request of one row; throws with the column and what is expected (never the value). */
export function requestOfRow(row: ConsentRow, hospitalId: string): { idempotencyKey: string; patientNationalId: string; terms: ConsentTerms } {
  const patientNationalId = required(row, 'patient_id');
  const insurerId = required(row, 'insurer');
  const policyNumber = required(row, 'policy');
  const formDigest = required(row, 'form_digest');
  const purposeName = row['purpose']?.trim() || 'DIRECT_SETTLEMENT';
  const purpose = PURPOSE_BY_NAME[purposeName];
  if (purpose === undefined) throw new Error(`purpose: one of ${Object.keys(PURPOSE_BY_NAME).join(', ')}`);
  const categoryNames = list(row['categories']);
  const categories = categoryNames.length === 0 ? [...ADJUDICATION_CATEGORIES] : categoryNames.map((name) => {
    const category = CATEGORY_BY_NAME[name];
    if (category === undefined) throw new Error(`categories: each one of ${Object.keys(CATEGORY_BY_NAME).join(', ')}`);
    return category;
  });
  const hospitals = list(row['hospitals']);
  const capturedAt = chinaTime(required(row, 'captured_at'), 'captured_at');
  const validFrom = row['valid_from'] ? chinaTime(row['valid_from'], 'valid_from') : startOfChinaDay(capturedAt);
  let validUntil: Date;
  if (row['valid_until']) validUntil = chinaTime(row['valid_until'], 'valid_until');
  else {
    const days = Number(row['valid_days'] || 90);
    if (!Number.isFinite(days) || days <= 0) throw new Error('valid_days: expected a positive number');
    validUntil = new Date(validFrom.getTime() + days * DAY_MS);
  }
  const key = [formDigest, insurerId, policyNumber, purposeName, capturedAt.toISOString()].join('\u0000');
  const idempotencyKey = `import-${createHash('sha256').update(key).digest('base64url').slice(0, 32)}`;
  return {
    idempotencyKey,
    patientNationalId,
    terms: {
      insurerId,
      policyNumber,
      purpose,
      categories,
      hospitalIds: hospitals.length === 0 ? [hospitalId] : hospitals[0] === '*' ? [] : hospitals,
      anyHospital: hospitals[0] === '*',
      validFrom,
      validUntil,
      capture: {
        channel: row['channel']?.trim() || 'deposit-desk',
        capturedAt,
        noticeVersion: row['notice_version']?.trim() || 'v1',
        formDigest,
      },
    },
  };
}

/** Records every row (a few in flight); a refused row is reported and the others go on. Rows count from 1. */
export async function importConsents(
  session: HospitalSession,
  rows: readonly ConsentRow[],
  options: { concurrency?: number; onOutcome?: (outcome: ImportOutcome) => void } = {},
): Promise<ImportOutcome[]> {
  const outcomes: ImportOutcome[] = new Array(rows.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < rows.length) {
      const index = next++;
      let outcome: ImportOutcome;
      try {
        const request = requestOfRow(rows[index]!, session.identity.party.id);
        const response = await retryUnavailable(() => grantConsent(session, request));
        outcome = { row: index + 1, ok: true, consentId: response.consent?.consentId ?? '', replayed: response.replayed ?? false };
      } catch (error) {
        outcome = { row: index + 1, ok: false, status: statusName(error) ?? 'INVALID_ROW', reason: statusName(error) ? describeError(error) : (error as Error).message };
      }
      outcomes[index] = outcome;
      options.onOutcome?.(outcome);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  return outcomes;
}
