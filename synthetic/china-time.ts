/**
 * Wall-clock times in China (UTC+08:00, no daylight saving), kept as epoch milliseconds and written as
 * FHIR dateTimes with an explicit +08:00 offset, as Chinese HIS systems send them.
 */
const OFFSET_MS = 8 * 3_600_000;
export const DAY_MS = 86_400_000;
export const MINUTE_MS = 60_000;

/** Epoch ms of a Beijing-time wall clock moment (month 1–12). */
export function chinaTime(year: number, month: number, day: number, hour = 0, minute = 0): number {
  return Date.UTC(year, month - 1, day, hour, minute) - OFFSET_MS;
}

/** The Beijing calendar date of an instant: [year, month 1–12, day]. */
export function chinaCalendarDate(epochMs: number): [number, number, number] {
  const shifted = new Date(epochMs + OFFSET_MS);
  return [shifted.getUTCFullYear(), shifted.getUTCMonth() + 1, shifted.getUTCDate()];
}

/** FHIR dateTime, e.g. 2024-03-05T08:30:00+08:00. */
export function fhirDateTime(epochMs: number): string {
  return `${new Date(epochMs + OFFSET_MS).toISOString().slice(0, 19)}+08:00`;
}

/** FHIR date, YYYY-MM-DD, in Beijing time. */
export function fhirDate(epochMs: number): string {
  return new Date(epochMs + OFFSET_MS).toISOString().slice(0, 10);
}

/** As written in Chinese clinical prose: 2024年3月5日. */
export function chineseDate(epochMs: number): string {
  const [year, month, day] = chinaCalendarDate(epochMs);
  return `${year}年${month}月${day}日`;
}

/** Whole years between a YYYY-MM-DD birth date and an instant (0 if the instant comes first). */
export function ageAt(birthDate: string, epochMs: number): number {
  const [year, month, day] = chinaCalendarDate(epochMs);
  const [birthYear, birthMonth, birthDay] = birthDate.split('-').map(Number) as [number, number, number];
  const hadBirthday = month > birthMonth || (month === birthMonth && day >= birthDay);
  return Math.max(0, year - birthYear - (hadBirthday ? 0 : 1));
}
