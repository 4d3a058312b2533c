/** IPv4 dotted quads and IPv6 addresses (validated by node:net, so compressed forms are handled right). */
import { isIPv6 } from 'node:net';
import { regexSpans } from './spans.js';
import type { Detector, Span } from './types.js';

const OCTET = String.raw`(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)`;
// Not part of a longer dotted number such as a version string 1.2.3.4.5.
const IPV4 = new RegExp(String.raw`(?<![\d.])(?:${OCTET}\.){3}${OCTET}(?!\d|\.\d)`, 'g');
// A hex/colon/dot run with at least one colon; the two classes before and after the first colon do not
// overlap, so the regex cannot backtrack badly. node:net then decides whether the run is an address.
const IPV6_CANDIDATE = /(?<![0-9A-Za-z:.])[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*(?![0-9A-Za-z])/g;

function findIpAddresses(text: string): Span[] {
  const spans = /\d\.\d/.test(text) ? regexSpans(IPV4, text) : [];
  if (text.includes(':')) {
    for (const span of regexSpans(IPV6_CANDIDATE, text)) {
      let end = span.end;
      while (end > span.start && text.charAt(end - 1) === '.') end--; // full stop after the address
      const candidate = text.slice(span.start, end);
      if (countColons(candidate) >= 2 && /[0-9A-Fa-f]/.test(candidate) && isIPv6(candidate)) {
        spans.push({ start: span.start, end });
      }
    }
  }
  return spans;
}

function countColons(text: string): number {
  let count = 0;
  for (let i = text.indexOf(':'); i !== -1; i = text.indexOf(':', i + 1)) count++;
  return count;
}

export const ipDetector: Detector = {
  name: 'ip',
  needsDigit: false,
  find: (text) => findIpAddresses(text),
};
