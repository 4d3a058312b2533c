/**
 * Amounts of money in signed formats: decimal strings with exactly two places ("9474.68"), as Chinese
 * payment APIs write yuan. Strings, not JSON numbers, so no stack rounds them; arithmetic happens in
 * integer fen (cents), never in floating point.
 */

const AMOUNT = /^(0|[1-9]\d{0,11})\.\d{2}$/;

export function isAmount(value: unknown): value is string {
  return typeof value === 'string' && AMOUNT.test(value);
}

/** "9474.68" → 947468. Throws TypeError on anything that is not an amount. */
export function fenOf(amount: string): number {
  if (!isAmount(amount)) throw new TypeError('not an amount: use digits with exactly two decimals');
  const [yuan, cents] = amount.split('.') as [string, string];
  return Number(yuan) * 100 + Number(cents);
}

/** 947468 → "9474.68". Throws TypeError on a negative or non-integer value. */
export function amountOf(fen: number): string {
  if (!Number.isSafeInteger(fen) || fen < 0) throw new TypeError('fen must be a non-negative integer');
  const cents = String(fen % 100).padStart(2, '0');
  return `${Math.floor(fen / 100)}.${cents}`;
}

/** A FHIR decimal (e.g. Money.value 420.1) as fen, rounded half away from zero; undefined if not finite. */
export function fenOfDecimal(value: unknown): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return undefined;
  // Scale through the decimal text, not `value * 100`, which turns 4.35 into 434.99999.
  const [whole, fraction = ''] = value.toFixed(3).split('.') as [string, string];
  const thousandths = Number(whole) * 1000 + Number(fraction.padEnd(3, '0'));
  return Math.round(thousandths / 10);
}
