/**
 * What the daemon checks before sending a file. With the exchange's intake configuration (`--intake`, the
 * file the operator publishes) that is the gateway's own profile check (profile/), so what it refuses the
 * gateway would refuse too; without it only the shape — a FHIR R4 Bundle holding a Patient — because a
 * hospital extension the operator maps would look like a missing amount here. Problems name the element and
 * what is expected, never a value, so they can go into a reason file.
 */
import { readFileSync } from 'node:fs';
import { loadIntakeConfig, validateDischargeBundle, type ProfilePurpose } from '../profile/index.js';

export type LocalCheck = (bytes: Uint8Array) => string[];

export function localCheck(options: { purpose: string; intakePath?: string; hospitalId?: string }): LocalCheck {
  if (options.intakePath === undefined) return shapeProblems;
  const config = loadIntakeConfig(options.intakePath);
  return (bytes) => {
    const problems = shapeProblems(bytes);
    if (problems.length > 0) return problems;
    const bundle: unknown = JSON.parse(Buffer.from(bytes).toString('utf8').replace(/^\uFEFF/, ''));
    const result = validateDischargeBundle(bundle, {
      purpose: options.purpose as ProfilePurpose,
      config,
      ...(options.hospitalId !== undefined && { hospitalId: options.hospitalId }),
    });
    return result.problems.map((p) => `${p.path}: ${p.expected}`);
  };
}

export function shapeProblems(bytes: Uint8Array): string[] {
  let bundle: unknown;
  try {
    bundle = JSON.parse(Buffer.from(bytes).toString('utf8').replace(/^\uFEFF/, ''));
  } catch {
    return ['the file is not JSON'];
  }
  if (typeof bundle !== 'object' || bundle === null || (bundle as { resourceType?: unknown }).resourceType !== 'Bundle') {
    return ['resourceType: expected a FHIR Bundle'];
  }
  const entries = (bundle as { entry?: unknown }).entry;
  if (!Array.isArray(entries) || entries.length === 0) return ['Bundle.entry: expected the discharge record’s resources'];
  const hasPatient = entries.some((entry) => (entry as { resource?: { resourceType?: unknown } } | null)?.resource?.resourceType === 'Patient');
  return hasPatient ? [] : ['Bundle.entry: expected a Patient resource'];
}

/** Splits files into bundles and the rest (unreadable, not JSON, not a Bundle), with each one's reason. */
export function partitionBundles(files: readonly string[]): { bundles: string[]; skipped: Array<{ file: string; reason: string }> } {
  const bundles: string[] = [];
  const skipped: Array<{ file: string; reason: string }> = [];
  for (const file of files) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      skipped.push({ file, reason: 'cannot be read' });
      continue;
    }
    const problems = shapeProblems(bytes);
    if (problems.length === 0) bundles.push(file);
    else skipped.push({ file, reason: problems.join('; ') });
  }
  return { bundles, skipped };
}
