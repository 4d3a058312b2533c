import type { Span } from './types.js';

/**
 * Every match of a module-level global regex, as spans. The regex object is shared between calls, so its
 * `lastIndex` is reset first; `accept` can veto a match (check digits, dates) after the cheap regex test.
 */
export function regexSpans(regex: RegExp, text: string, accept?: (match: RegExpExecArray) => boolean): Span[] {
  const spans: Span[] = [];
  regex.lastIndex = 0;
  for (let match = regex.exec(text); match !== null; match = regex.exec(text)) {
    if (match[0].length === 0) {
      regex.lastIndex++; // a zero-length match would loop forever
      continue;
    }
    if (accept === undefined || accept(match)) spans.push({ start: match.index, end: match.index + match[0].length });
  }
  return spans;
}

/** Digits of a string with its separators (spaces, dashes, dots) dropped. */
export function digitsOf(text: string): string {
  return text.replace(/\D/g, '');
}
