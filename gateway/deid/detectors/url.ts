/** Web addresses starting with http://, https:// or www. (a URL can carry a patient's ID or name). */
import type { Detector, Span } from './types.js';

// One greedy character class: linear time whatever the input.
const URL = /\b(?:https?:\/\/|www\.)[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+/gi;
const TRAILING_PUNCTUATION = /[.,;:!?'")\]]+$/;

function findUrls(text: string): Span[] {
  const spans: Span[] = [];
  URL.lastIndex = 0;
  for (let match = URL.exec(text); match !== null; match = URL.exec(text)) {
    const trimmed = match[0].replace(TRAILING_PUNCTUATION, '');
    if (!/^(?:https?:\/\/|www\.)$/i.test(trimmed)) spans.push({ start: match.index, end: match.index + trimmed.length });
  }
  return spans;
}

export const urlDetector: Detector = {
  name: 'url',
  needsDigit: false,
  find: (text) => findUrls(text),
};
