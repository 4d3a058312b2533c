/** Payment card numbers: 16–19 digits, optionally in groups of four split by spaces or dashes, Luhn-valid. */
import { isLuhnValid } from './luhn.js';
import { digitsOf, regexSpans } from './spans.js';
import type { Detector } from './types.js';

const BANK_CARD = /(?<!\d)\d{4}(?:[ -]?\d{4}){3}(?:[ -]?\d{1,3})?(?!\d)/g;

export const bankCardDetector: Detector = {
  name: 'bank-card',
  needsDigit: true,
  find: (text) => regexSpans(BANK_CARD, text, (match) => isLuhnValid(digitsOf(match[0]))),
};
