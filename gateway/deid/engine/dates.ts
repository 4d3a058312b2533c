/**
 * Date handling with the anonymizer's semantics: partial redaction keeps the year unless the date
 * indicates an age over 89 (HIPAA Safe Harbor), and date shifting moves a full date by a keyed offset
 * of −50…+50 days while zeroing the time of day and keeping the zone.
 */

// The FHIR date/dateTime grammars; groups 1 = year, 5 = month, 7 = day, 8 = time with zone.
const DATE = /([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?/;
const DATE_TIME =
  /([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?/;
const TIME = /([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?/;

const AGE_THRESHOLD = 89;
const SHIFT_SEED = 131;
const SHIFT_RANGE = 50;

export type DateKind = 'date' | 'dateTime';

function match(value: string, kind: DateKind): RegExpExecArray | null {
  return (kind === 'date' ? DATE : DATE_TIME).exec(value);
}

/** Whether a (possibly partial) date of birth means the person is now older than 89. */
function overThreshold(m: RegExpExecArray, today: Date): boolean {
  const year = Number(m[1]);
  const month = m[5] !== undefined ? Number(m[5]) : 1;
  const day = m[7] !== undefined ? Number(m[7]) : 1;
  const nowMonth = today.getMonth() + 1;
  const before = nowMonth < month || (nowMonth === month && today.getDate() < day);
  return today.getFullYear() - year - (before ? 1 : 0) > AGE_THRESHOLD;
}

/**
 * Redaction of a date/dateTime/instant: without partial dates the value goes; with them only the year
 * stays, and not even that for an age over 89. Returns the new value (null = removed).
 */
export function redactDate(value: string, kind: DateKind, partial: boolean, today = new Date()): string | null {
  if (!partial) return null;
  const m = match(value, kind);
  if (m?.[1] === undefined) return value;
  return overThreshold(m, today) ? null : m[1];
}

/** The anonymizer's keyed offset: over the UTF-8 bytes of prefix + key, `o = (o * 131 + b) % 101`, minus 50. */
export function dateShiftOffset(prefix: string, key: string): number {
  let offset = 0;
  for (const byte of Buffer.from(prefix + key, 'utf8')) offset = (offset * SHIFT_SEED + byte) % (2 * SHIFT_RANGE + 1);
  return offset - SHIFT_RANGE;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

function addDays(year: number, month: number, day: number, days: number): string {
  const shifted = new Date(Date.UTC(year, month - 1, day) + days * 86_400_000);
  // Date.UTC maps years 0–99 to 1900+; set the full year explicitly.
  if (year < 100) shifted.setUTCFullYear(shifted.getUTCFullYear() - 1900);
  return `${pad(shifted.getUTCFullYear(), 4)}-${pad(shifted.getUTCMonth() + 1, 2)}-${pad(shifted.getUTCDate(), 2)}`;
}

export type ShiftOutcome = { shifted: true; value: string } | { shifted: false; value: string | null };

/**
 * Shifts a full date (a day is present and the age is not over 89) by `offset` days; anything else is
 * redacted instead (partial rules apply), exactly as the anonymizer does.
 */
export function shiftDate(value: string, kind: DateKind, offset: number, partial: boolean, today = new Date()): ShiftOutcome {
  const m = match(value, kind);
  if (m === null || m[7] === undefined || overThreshold(m, today)) {
    return { shifted: false, value: redactDate(value, kind, partial, today) };
  }
  const date = addDays(Number(m[1]), Number(m[5]), Number(m[7]), offset);
  const timestamp = kind === 'dateTime' ? m[8] : undefined;
  if (timestamp === undefined) return { shifted: true, value: date };
  const time = TIME.exec(timestamp)?.[0];
  const zeroed = time === undefined ? timestamp : timestamp.replace(time, time.replace(/\d/g, '0'));
  return { shifted: true, value: date + zeroed };
}
