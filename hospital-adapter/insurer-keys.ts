/**
 * Insurers' public signing keys, fetched from the gateway's directory (`GetPartyKeys`) when first needed
 * and cached; fetched again once when a token names a key we do not have (the insurer rotated).
 */
import type { JSONWebKeySet } from 'jose';
import { parsePartyUriOf } from '../keys/identity.js';
import { unaryCall } from '../proto/connect.js';
import type { HospitalSession } from './session.js';

export class InsurerKeys {
  private readonly cache = new Map<string, Promise<JSONWebKeySet>>();

  constructor(private readonly session: HospitalSession) {}

  /** The JWKS of the insurer named by `uri`; refuses a URI outside our trust domain or of another role. */
  get(uri: string, options: { refresh?: boolean } = {}): Promise<JSONWebKeySet> {
    const { id } = parsePartyUriOf(uri, 'insurer', this.session.identity.party.trustDomain);
    let keys = options.refresh ? undefined : this.cache.get(id);
    if (!keys) {
      keys = this.fetch(id, uri);
      this.cache.set(id, keys);
      keys.catch(() => this.cache.delete(id));
    }
    return keys;
  }

  private async fetch(id: string, uri: string): Promise<JSONWebKeySet> {
    const clients = this.session.clients;
    const response = await unaryCall(clients.directory, clients.directory.getPartyKeys, { partyId: id });
    if (response.role !== 'insurer' || response.uri !== uri) throw new Error('the directory answered for another party');
    return JSON.parse(response.signingJwksJson) as JSONWebKeySet;
  }
}
