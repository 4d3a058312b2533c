/**
 * Resident IDs arrive from consents, bundles and regulator queries; each is normalised and turned into
 * the keyed index hash at once. The raw ID goes no further than this function.
 */
import { isValidResidentId } from '../deid/detectors/index.js';
import { InvalidInput } from '../errors.js';
import type { GatewaySecrets } from '../secrets.js';

export function normaliseResidentId(raw: string): string {
  return raw.replace(/[\s-]/g, '').toUpperCase();
}

export function patientKeyOf(secrets: GatewaySecrets, rawId: string, field: string): Buffer {
  const id = normaliseResidentId(rawId ?? '');
  if (!isValidResidentId(id)) throw new InvalidInput(`${field} is not a valid resident ID`);
  return secrets.patientKey(id);
}

/** How a patient appears in audit events: the index hash, base64url. */
export function patientRef(patientKey: Buffer): string {
  return patientKey.toString('base64url');
}
