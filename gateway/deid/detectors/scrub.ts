/** Replaces every detection with a fixed marker and counts what was removed, per detector. */
import { detect } from './detect.js';
import type { DetectOptions, DetectorName } from './types.js';

export const REDACTION_MARKER = '[已删除]';

export interface ScrubResult {
  text: string;
  counts: Partial<Record<DetectorName, number>>;
}

export function scrub(text: string, options?: DetectOptions): ScrubResult {
  const detections = detect(text, options);
  if (detections.length === 0) return { text, counts: {} };
  const counts: Partial<Record<DetectorName, number>> = {};
  const parts: string[] = [];
  let cursor = 0;
  for (const detection of detections) {
    parts.push(text.slice(cursor, detection.start), REDACTION_MARKER);
    cursor = detection.end;
    counts[detection.detector] = (counts[detection.detector] ?? 0) + 1;
  }
  parts.push(text.slice(cursor));
  return { text: parts.join(''), counts };
}
