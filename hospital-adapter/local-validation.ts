/**
 * What the adapter checks before sending a file: that it is a FHIR R4 Bundle holding a Patient. Problems
 * name the element and what is expected, never a value, so they can go into a reason file.
 */
export function localProblems(bytes: Uint8Array): string[] {
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
