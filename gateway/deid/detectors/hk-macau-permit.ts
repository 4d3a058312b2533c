/** Exit-entry permits for Hong Kong and Macau (往来港澳通行证): C + 8 digits or C + letter + 7 digits. */
import { regexSpans } from './spans.js';
import type { Detector } from './types.js';

const HK_MACAU_PERMIT = /(?<![A-Za-z0-9])(?:C\d{8}|C[A-HJ-NP-Z]\d{7})(?![A-Za-z0-9])/g;

export const hkMacauPermitDetector: Detector = {
  name: 'hk-macau-permit',
  needsDigit: true,
  find: (text) => regexSpans(HK_MACAU_PERMIT, text),
};
