/**
 * Opaque, unguessable ids with a prefix that tells a human what they name. Time-ordered (48-bit
 * millisecond time, then 80 random bits, as in UUIDv7): rows keyed by them are appended to the end of
 * their B-tree instead of landing on a random page, so each commit writes fewer pages to the WAL.
 */
import { randomBytes } from 'node:crypto';

export type IdKind = 'cns' | 'sub' | 'trf' | 'dec';

export function newId(kind: IdKind): string {
  return `${kind}_${Date.now().toString(16).padStart(12, '0')}${randomBytes(10).toString('hex')}`;
}
