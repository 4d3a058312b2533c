import type { DirectoryServiceServer } from '../../../proto/gen/hdx/v1/directory.js';
import type { Gateway } from '../../app.js';
import { NotFound } from '../../errors.js';
import { unary, type Runtime } from '../wrap.js';

export function directoryHandlers(gw: Gateway, rt: Runtime, log: { verifierKey: string; origin: string }): DirectoryServiceServer {
  return {
    getJwks: unary(rt, 'GetJwks', () => ({
      jwksJson: JSON.stringify(gw.signer.publicJwks()),
      issuer: gw.signer.uri,
      logVerifierKey: log.verifierKey,
      logOrigin: log.origin,
    })),
    getPartyKeys: unary(rt, 'GetPartyKeys', (_ctx, req) => {
      const party = gw.parties.byId(req.partyId);
      if (!party) throw new NotFound('party not found');
      return {
        partyId: party.id,
        uri: party.uri,
        role: party.role,
        signingJwksJson: JSON.stringify(gw.parties.signingJwks(party.id)),
      };
    }),
  };
}
