/** Opaque, unguessable ids with a prefix that tells a human what they name. */
import { randomUUID } from 'node:crypto';

export type IdKind = 'cns' | 'sub' | 'trf' | 'dec';

export function newId(kind: IdKind): string {
  return `${kind}_${randomUUID().replaceAll('-', '')}`;
}
