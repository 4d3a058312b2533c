/** Identifier values in the shapes Chinese systems issue them. */
import { residentIdCheckDigit } from '../gateway/deid/detectors/index.js';
import type { SeededRandom } from './random.js';
import type { Gender } from './types.js';

/** GB 11643: region + YYYYMMDD + 3-digit sequence (odd for men, even for women) + MOD 11-2 check. */
export function residentId(rng: SeededRandom, regionCode: string, birthDate: string, gender: Gender): string {
  const genderDigit = 2 * rng.int(0, 4) + (gender === 'male' ? 1 : 0);
  const first17 = `${regionCode}${birthDate.replaceAll('-', '')}${rng.digits(2)}${genderDigit}`;
  return first17 + residentIdCheckDigit(first17);
}

const MOBILE_PREFIXES = [
  '130', '131', '132', '133', '134', '135', '136', '137', '138', '139', '150', '151', '152', '153', '155', '156',
  '157', '158', '159', '166', '176', '177', '178', '180', '181', '182', '183', '185', '186', '187', '188', '189',
  '191', '193', '195', '198', '199',
] as const;

export function mobileNumber(rng: SeededRandom): string {
  return rng.pick(MOBILE_PREFIXES) + rng.digits(8);
}

/** How people write a mobile number in notes: bare, 3-4-4 with spaces or dashes, or with +86. */
export function formatMobile(rng: SeededRandom, phone: string): string {
  const grouped = [phone.slice(0, 3), phone.slice(3, 7), phone.slice(7)];
  return rng.pick([phone, grouped.join(' '), grouped.join('-'), `+86 ${grouped.join(' ')}`]);
}

/** A hospital's 病案号: ten digits. */
export function medicalRecordNumber(rng: SeededRandom): string {
  return String(rng.int(1, 9)) + rng.digits(9);
}

/** Shenzhen 医保 (social insurance) card number, the nine-digit 电脑号 printed on the card. */
export function socialInsuranceNumber(rng: SeededRandom): string {
  return String(rng.int(6, 9)) + rng.digits(8);
}

/** 住院号 ZY + year + six digits, or 门诊号 MZ + date + four digits. */
export function visitNumber(rng: SeededRandom, inpatient: boolean, date: string): string {
  return inpatient ? `ZY${date.slice(0, 4)}${rng.digits(6)}` : `MZ${date.replaceAll('-', '')}${rng.digits(4)}`;
}

/** A 19-digit UnionPay debit card number (62…) with a valid Luhn digit. */
export function bankCardNumber(rng: SeededRandom): string {
  const body = `62${rng.pick(['2202', '1700', '2848', '1226', '1483'])}${rng.digits(12)}`;
  return body + luhnCheckDigit(body);
}

function luhnCheckDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let digit = body.charCodeAt(body.length - 1 - i) - 48;
    if (i % 2 === 0) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return String((10 - (sum % 10)) % 10);
}

/** A hospital-internal patient card number under a system no profile knows. */
export function clinicCardNumber(rng: SeededRandom): string {
  return `JZK${rng.digits(10)}`;
}
