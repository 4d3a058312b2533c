/** A hospital's session with the gateway (see proto/session.ts). */
import { openPartySession, type PartySession } from '../proto/session.js';

export type HospitalSession = PartySession;

export function openHospitalSession(identityDir: string, address?: string): Promise<HospitalSession> {
  return openPartySession(identityDir, 'hospital', address);
}
