/**
 * E-mail addresses. Found by expanding around each '@' rather than by one big regex, so that a long run of
 * address-like characters without an '@' costs nothing and no input can make the search backtrack.
 */
import type { Detector, Span } from './types.js';

const LOCAL_PART_CHAR = /[A-Za-z0-9._%+-]/;
const DOMAIN_CHAR = /[A-Za-z0-9.-]/;
const DOMAIN = /^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/;

function findEmails(text: string): Span[] {
  const spans: Span[] = [];
  let at = text.indexOf('@');
  while (at !== -1) {
    let start = at;
    while (start > 0 && LOCAL_PART_CHAR.test(text.charAt(start - 1))) start--;
    while (start < at && text.charAt(start) === '.') start++;
    let end = at + 1;
    while (end < text.length && DOMAIN_CHAR.test(text.charAt(end))) end++;
    while (end > at + 1 && /[.-]/.test(text.charAt(end - 1))) end--; // sentence punctuation
    if (start < at && DOMAIN.test(text.slice(at + 1, end))) {
      spans.push({ start, end });
      at = text.indexOf('@', end);
    } else {
      at = text.indexOf('@', at + 1);
    }
  }
  return spans;
}

export const emailDetector: Detector = {
  name: 'email',
  needsDigit: false,
  find: (text) => findEmails(text),
};
