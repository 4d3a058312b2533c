/** Chinese ordinary passports: E or G + 8 digits, or E + letter + 7 digits; not part of a longer word. */
import { regexSpans } from './spans.js';
import type { Detector } from './types.js';

const PASSPORT = /(?<![A-Za-z0-9])(?:[EG]\d{8}|E[A-HJ-NP-Z]\d{7})(?![A-Za-z0-9])/g;

export const passportDetector: Detector = {
  name: 'passport',
  needsDigit: true,
  find: (text) => regexSpans(PASSPORT, text),
};
