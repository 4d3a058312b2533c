/**
 * The insurer's private encryption keys for one payload. A payload naming a key we do not hold means the
 * key was rotated while the adapter runs (the gateway seals to the registry's newest key from its reload
 * on): the identity folder is read again, so the new key and the old ones kept as `.old` are both held.
 */
import type { JWK } from 'jose';
import { loadPartyIdentity } from '../keys/exchange/load.js';
import type { InsurerSession } from './session.js';

const held = (session: InsurerSession): JWK[] => {
  const { encryptionKey, previousEncryptionKeys } = session.identity;
  return [...(encryptionKey ? [encryptionKey] : []), ...previousEncryptionKeys];
};

export function decryptionKeysFor(session: InsurerSession, kid: string): JWK[] {
  if (held(session).some((k) => k.kid === kid)) return held(session);
  const reread = loadPartyIdentity(session.identityDir);
  if (reread.party.uri !== session.identity.party.uri) throw new Error('the identity folder now holds another party');
  // Keys once held stay held: a payload sealed before the rotation still opens.
  const byKid = new Map<string, JWK>();
  for (const k of [...held(session), ...reread.previousEncryptionKeys]) if (!byKid.has(k.kid!)) byKid.set(k.kid!, k);
  const current = reread.encryptionKey ?? session.identity.encryptionKey;
  if (current) {
    session.identity.encryptionKey = current;
    byKid.delete(current.kid!);
  }
  session.identity.previousEncryptionKeys = [...byKid.values()];
  return held(session);
}
