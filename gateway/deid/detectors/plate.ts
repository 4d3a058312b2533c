/**
 * Mainland licence plates: province abbreviation + issuing-authority letter + optional separator + 5
 * characters (ordinary), 6 starting or ending in D/F (new-energy), or 4 + a special suffix (学, 警, 挂, 港,
 * 澳). Plates never use I or O. Several province abbreviations are common words (新, 云, 青, 黑), so the
 * tail must hold at least three digits to count as a plate.
 */
import { regexSpans } from './spans.js';
import type { Detector } from './types.js';

const PROVINCES = '京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼';
const PLATE = new RegExp(
  `[${PROVINCES}][A-HJ-NP-Z][·•・ ]?(?:[A-HJ-NP-Z0-9]{5,6}|[A-HJ-NP-Z0-9]{4}[学警挂港澳])(?![A-Za-z0-9])`,
  'gi',
);
const MIN_DIGITS = 3;

function isPlausiblePlate(plate: string): boolean {
  const tail = plate.slice(2).replace(/^[·•・ ]/, '');
  if ((tail.match(/\d/g) ?? []).length < MIN_DIGITS) return false;
  return tail.length !== 6 || /^[DF]|[DF]$/i.test(tail);
}

export const plateDetector: Detector = {
  name: 'plate',
  needsDigit: true,
  find: (text) => regexSpans(PLATE, text, (match) => isPlausiblePlate(match[0])),
};
