/**
 * Fixed-line numbers with an area code: 0 + 2–3 digits, then `-`, a space or parentheses, 7–8 digits,
 * an optional extension; also +86 with the area code's 0 dropped. A separator is required so that runs
 * of digits (amounts, order numbers) are not taken for phone numbers.
 */
import { regexSpans } from './spans.js';
import type { Detector } from './types.js';

const AREA_CODE = String.raw`(?:[(（]0\d{2,3}[)）][ -]?|0\d{2,3}[ -]|\+86[ -]?(?:[(（]0?\d{2,3}[)）]|0?\d{2,3})[ -])`;
const LOCAL_NUMBER = String.raw`[1-9]\d{6,7}`;
const EXTENSION = String.raw`(?:(?:-|转|分机|ext\.? ?|x)\d{1,5})?`;
const LANDLINE = new RegExp(String.raw`(?<!\d)${AREA_CODE}${LOCAL_NUMBER}${EXTENSION}(?!\d)`, 'gi');

export const landlineDetector: Detector = {
  name: 'landline',
  needsDigit: true,
  find: (text) => regexSpans(LANDLINE, text),
};
