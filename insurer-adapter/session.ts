/** An insurer's session with the gateway (see proto/session.ts); insurers also hold a decryption key. */
import type { RetryOptions } from '../proto/connect.js';
import { openPartySession, type PartySession } from '../proto/session.js';

export type InsurerSession = PartySession;

export async function openInsurerSession(identityDir: string, address?: string, retry?: RetryOptions): Promise<InsurerSession> {
  const session = await openPartySession(identityDir, 'insurer', address, retry);
  if (!session.identity.encryptionKey) {
    session.close();
    throw new Error('this insurer identity has no encryption key');
  }
  return session;
}
