import type { FhirBundle, FhirResource } from '../../synthetic/index.js';

// Loose JSON access for assertions on generated FHIR.
export type Json = any;

export function resourcesOf(bundle: FhirBundle, type: string): Json[] {
  return bundle.entry.map((entry) => entry.resource).filter((resource) => resource.resourceType === type);
}

export function only(bundle: FhirBundle, type: string): Json {
  const found = resourcesOf(bundle, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0];
}

/** The decoded text of the DocumentReference's attachment, if there is one. */
export function noteText(bundle: FhirBundle): string | undefined {
  const document = resourcesOf(bundle, 'DocumentReference')[0];
  const data: string | undefined = document?.content?.[0]?.attachment?.data;
  return data === undefined ? undefined : Buffer.from(data, 'base64').toString('utf8');
}

/** Every `reference` string anywhere in a resource. */
export function referencesIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(referencesIn);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    key === 'reference' && typeof inner === 'string' ? [inner] : referencesIn(inner),
  );
}

/** Every string value with its key, anywhere in a resource. */
export function stringsIn(value: unknown, key = ''): Array<{ key: string; text: string }> {
  if (typeof value === 'string') return [{ key, text: value }];
  if (Array.isArray(value)) return value.flatMap((inner) => stringsIn(inner, key));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([innerKey, inner]) => stringsIn(inner, innerKey));
}

export const fen = (amount: number) => Math.round(amount * 100);

export function epoch(dateTime: string): number {
  return new Date(dateTime).getTime();
}

export function isResource(value: unknown): value is FhirResource {
  return typeof value === 'object' && value !== null && typeof (value as FhirResource).resourceType === 'string';
}
