import { detect } from '../../gateway/deid/detectors/index.js';
import type { DetectOptions, DetectorName } from '../../gateway/deid/detectors/index.js';

/** What `detect` found, as [detector, matched text] pairs: easy to read in an assertion. */
export function found(text: string, options?: DetectOptions): Array<[DetectorName, string]> {
  return detect(text, options).map((d) => [d.detector, text.slice(d.start, d.end)]);
}

/** The matched texts of one detector only. */
export function foundBy(detector: DetectorName, text: string, options?: DetectOptions): string[] {
  return found(text, options)
    .filter(([name]) => name === detector)
    .map(([, value]) => value);
}
