/** Shared shapes of the discharge profile. */
export type Json = Record<string, unknown>;

/** One thing a bundle lacks or gets wrong: the element (FHIRPath-like) and what is expected. Never a value. */
export interface Problem {
  path: string;
  expected: string;
}

export const PURPOSES = ['DIRECT_SETTLEMENT', 'CLAIM', 'STATISTICS'] as const;
export type ProfilePurpose = (typeof PURPOSES)[number];

export interface BundleEntry {
  fullUrl?: string;
  resource: Json;
}

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
export const arrayOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function problemLine(p: Problem): string {
  return `${p.path} ${p.expected}`;
}
