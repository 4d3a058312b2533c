/**
 * Runs every detector over a text and returns non-overlapping detections sorted by offset. Overlapping
 * findings (a phone inside a URL, the patient's known ID that is also a resident ID) are merged into
 * their union, so that scrubbing never leaves a fragment of either behind; the merged detection is
 * attributed to its longest part, ties going to the more specific detector (earlier in DETECTORS).
 */
import { bankCardDetector } from './bank-card.js';
import { emailDetector } from './email.js';
import { hkMacauPermitDetector } from './hk-macau-permit.js';
import { ipDetector } from './ip.js';
import { knownValueDetector } from './known-value.js';
import { landlineDetector } from './landline.js';
import { mobileDetector } from './mobile.js';
import { passportDetector } from './passport.js';
import { plateDetector } from './plate.js';
import { labelledRecordNumberDetector, recordNumberPatternDetector } from './record-number.js';
import { residentIdDetector } from './resident-id.js';
import { variantViews } from './normalize.js';
import type { Detection, DetectOptions, Detector } from './types.js';
import { urlDetector } from './url.js';

const DETECTORS: readonly Detector[] = [
  residentIdDetector,
  bankCardDetector,
  mobileDetector,
  landlineDetector,
  passportDetector,
  hkMacauPermitDetector,
  emailDetector,
  urlDetector,
  ipDetector,
  plateDetector,
  recordNumberPatternDetector,
  labelledRecordNumberDetector,
  knownValueDetector,
];

const HAS_DIGIT = /\d/;

interface Candidate extends Detection {
  priority: number;
}

export function detect(text: string, options: DetectOptions = {}): Detection[] {
  if (text.length < 2) return [];
  const candidates: Candidate[] = [];
  findIn(text, options, candidates);
  // Full-width digits, 138 1234 5678, 张 三: found in the derived views, reported on the original.
  for (const view of variantViews(text)) findIn(view.text, options, candidates, view.origin);
  return mergeOverlapping(candidates);
}

function findIn(text: string, options: DetectOptions, candidates: Candidate[], origin?: Int32Array): void {
  const hasDigit = HAS_DIGIT.test(text);
  DETECTORS.forEach((detector, priority) => {
    if (detector.needsDigit && !hasDigit) return;
    for (const { start, end } of detector.find(text, options)) {
      candidates.push(
        origin === undefined
          ? { detector: detector.name, start, end, priority }
          : { detector: detector.name, start: origin[start]!, end: origin[end - 1]! + 1, priority },
      );
    }
  });
}

function mergeOverlapping(candidates: Candidate[]): Detection[] {
  candidates.sort((a, b) => a.start - b.start || b.end - a.end || a.priority - b.priority);
  const merged: Detection[] = [];
  let current: Detection | undefined;
  let best: Candidate | undefined; // the part that names the merged detection
  for (const candidate of candidates) {
    if (current !== undefined && best !== undefined && candidate.start < current.end) {
      current.end = Math.max(current.end, candidate.end);
      if (isBetter(candidate, best)) {
        best = candidate;
        current.detector = candidate.detector;
      }
      continue;
    }
    current = { detector: candidate.detector, start: candidate.start, end: candidate.end };
    best = candidate;
    merged.push(current);
  }
  return merged;
}

function isBetter(a: Candidate, b: Candidate): boolean {
  const lengthA = a.end - a.start;
  const lengthB = b.end - b.start;
  return lengthA > lengthB || (lengthA === lengthB && a.priority < b.priority);
}
