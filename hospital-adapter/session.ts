/** A hospital's session with the gateway (see proto/session.ts). */
import type { RetryOptions } from '../proto/connect.js';
import { openPartySession, type PartySession } from '../proto/session.js';

export type HospitalSession = PartySession;

export function openHospitalSession(identityDir: string, address?: string, retry?: RetryOptions): Promise<HospitalSession> {
  return openPartySession(identityDir, 'hospital', address, retry);
}
