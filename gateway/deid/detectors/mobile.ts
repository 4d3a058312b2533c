/** Mainland mobile numbers: 1[3-9] + 9 digits, optional +86/0086/86, spaces or dashes in 3-4-4 groups. */
import { regexSpans } from './spans.js';
import type { Detector } from './types.js';

const MOBILE = /(?<!\d)(?:(?:\+|00)?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)/g;

export const mobileDetector: Detector = {
  name: 'mobile',
  needsDigit: true,
  find: (text) => regexSpans(MOBILE, text),
};
