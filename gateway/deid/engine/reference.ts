/**
 * Literal references keep their shape when their id is hashed or encrypted: `Patient/123` becomes
 * `Patient/<hash>`, `#p1` becomes `#<hash>`, `urn:uuid:…` keeps its prefix. A value that is not a
 * recognisable reference is transformed whole.
 */
import { RESOURCE_TYPES } from './model.js';

const TYPES = [...RESOURCE_TYPES].filter((type) => type !== 'Resource' && type !== 'DomainResource').join('|');

const LITERAL_REFERENCES: RegExp[] = [
  new RegExp(
    `^(?<prefix>((http|https)://([A-Za-z0-9\\\\/.:%$])*)?(${TYPES})/)(?<id>[A-Za-z0-9\\-.]{1,64})(?<suffix>/_history/[A-Za-z0-9\\-.]{1,64})?$`,
  ),
  /^(?<prefix>urn:oid:)(?<id>[0-2](\.(0|[1-9][0-9]*))+)(?<suffix>)$/,
  /^(?<prefix>urn:uuid:)(?<id>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(?<suffix>)$/,
];

const RELATIVE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/;
const CONCRETE_TYPES: ReadonlySet<string> = new Set([...RESOURCE_TYPES].filter((type) => type !== 'Resource' && type !== 'DomainResource'));

/** Whether `text` from `start` to its end is a FHIR id: [A-Za-z0-9-.]{1,64}. */
function isId(text: string, start: number): boolean {
  const length = text.length - start;
  if (length < 1 || length > 64) return false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46)) return false;
  }
  return true;
}

export function transformReferenceId(reference: string, transform: (id: string) => string): string {
  if (reference === '') return reference;
  if (reference.startsWith('#')) return `#${transform(reference.slice(1))}`;
  // The common case, `Type/id`, without the long alternation of the first pattern (same result).
  const slash = reference.indexOf('/');
  if (slash > 0 && slash === reference.lastIndexOf('/') && isId(reference, slash + 1)) {
    const type = reference.slice(0, slash);
    if (CONCRETE_TYPES.has(type)) return `${type}/${transform(reference.slice(slash + 1))}`;
  }
  for (const pattern of LITERAL_REFERENCES) {
    const groups = pattern.exec(reference)?.groups;
    if (groups !== undefined) return `${groups['prefix'] ?? ''}${transform(groups['id'] ?? '')}${groups['suffix'] ?? ''}`;
  }
  return transform(reference);
}

/** The `Type` and `id` of a relative literal reference such as `Patient/123`, if it is one. */
export function parseRelativeReference(reference: string): { type: string; id: string } | undefined {
  const m = RELATIVE.exec(reference);
  if (m === null || !RESOURCE_TYPES.has(m[1]!)) return undefined;
  return { type: m[1]!, id: m[2]! };
}
