/**
 * Chinese resident identity card numbers (GB 11643-1999): 6-digit region, birth date, 3-digit sequence,
 * ISO 7064 MOD 11-2 check character; and the legacy 15-digit form (YYMMDD, no check digit).
 */
import { regexSpans } from './spans.js';
import type { Detector } from './types.js';

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK_CHARACTERS = '10X98765432';

/** First two digits of real region codes (provinces, plus 71/81/82/83 for Taiwan, Hong Kong, Macau). */
const PROVINCE_CODES = new Set([
  '11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37', '41', '42', '43',
  '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65', '71', '81', '82', '83',
]);

const EARLIEST_BIRTH_YEAR = 1900;
const LATEST_BIRTH_YEAR = new Date().getUTCFullYear();

/** The check character of an 18-digit ID from its first 17 digits: '0'–'9' or 'X'. */
export function residentIdCheckDigit(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new TypeError('residentIdCheckDigit expects exactly 17 digits');
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * (WEIGHTS[i] ?? 0);
  return CHECK_CHARACTERS.charAt(sum % 11);
}

/** True for an 18-digit ID with a real province, a plausible birth date and the right check character,
 *  or a 15-digit legacy ID with a real province and a valid 19YY birth date. */
export function isValidResidentId(id: string): boolean {
  if (/^\d{17}[\dXx]$/.test(id)) {
    return (
      PROVINCE_CODES.has(id.slice(0, 2)) &&
      isPlausibleBirthDate(Number(id.slice(6, 10)), Number(id.slice(10, 12)), Number(id.slice(12, 14))) &&
      residentIdCheckDigit(id.slice(0, 17)) === id.charAt(17).toUpperCase()
    );
  }
  if (/^\d{15}$/.test(id)) {
    return (
      PROVINCE_CODES.has(id.slice(0, 2)) &&
      isPlausibleBirthDate(1900 + Number(id.slice(6, 8)), Number(id.slice(8, 10)), Number(id.slice(10, 12)))
    );
  }
  return false;
}

function isPlausibleBirthDate(year: number, month: number, day: number): boolean {
  if (year < EARLIEST_BIRTH_YEAR || year > LATEST_BIRTH_YEAR || month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

// Not inside a longer run of digits: an 18-digit order number embedded in 20 digits is no ID.
const RESIDENT_ID = /(?<!\d)(?:\d{17}[\dXx]|\d{15})(?!\d)/g;

export const residentIdDetector: Detector = {
  name: 'resident-id',
  needsDigit: true,
  find: (text) => regexSpans(RESIDENT_ID, text, (match) => isValidResidentId(match[0])),
};
