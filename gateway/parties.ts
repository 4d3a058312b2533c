/**
 * The party registry as the gateway uses it: loaded from the operator's file, reloadable without a
 * restart (SIGHUP or `reload()`); a broken file is refused and the previous registry stays in force.
 */
import type { JSONWebKeySet, JWK } from 'jose';
import { loadRegistry, PartyDirectory } from '../keys/registry.js';
import type { Party, PartyLookup } from './context.js';
import { PreconditionFailed } from './errors.js';

export interface RegistryChange {
  partiesAdded: string[];
  partiesRemoved: string[];
  /** `<party>:<use>:<kid>:<validUntil>` entries that appeared or disappeared (a rotation shows both). */
  keysAdded: string[];
  keysRemoved: string[];
}

export class RegistryParties implements PartyLookup {
  private directory: PartyDirectory;
  private readonly reloadListeners = new Set<() => void>();

  constructor(private readonly path: string) {
    this.directory = new PartyDirectory(loadRegistry(path));
  }

  /**
   * Re-reads the registry file; throws (keeping the old registry) if it is invalid. Returns what changed,
   * as party ids and key ids, for the audit log.
   */
  reload(): RegistryChange {
    const before = this.snapshot();
    this.directory = new PartyDirectory(loadRegistry(this.path));
    for (const listener of [...this.reloadListeners]) listener();
    const after = this.snapshot();
    const diff = (a: Set<string>, b: Set<string>) => [...a].filter((x) => !b.has(x)).sort();
    return {
      partiesAdded: diff(after.parties, before.parties),
      partiesRemoved: diff(before.parties, after.parties),
      keysAdded: diff(after.keys, before.keys),
      keysRemoved: diff(before.keys, after.keys),
    };
  }

  /** Calls `listener` after every successful reload (open streams re-check their caller); returns the unsubscribe. */
  onReload(listener: () => void): () => void {
    this.reloadListeners.add(listener);
    return () => void this.reloadListeners.delete(listener);
  }

  private snapshot(): { parties: Set<string>; keys: Set<string> } {
    const parties = this.directory.parties();
    return {
      parties: new Set(parties.map((p) => p.id)),
      keys: new Set(parties.flatMap((p) => p.keys.map((k) => `${p.id}:${k.jwk.use}:${k.jwk.kid}:${k.validUntil ?? ''}`))),
    };
  }

  get trustDomain(): string {
    return this.directory.trustDomain;
  }

  byId(id: string): Party | undefined {
    const p = this.directory.byId(id);
    return p && { id: p.id, role: p.role, uri: p.uri, name: p.name };
  }

  byUri(uri: string): Party | undefined {
    const p = this.directory.byUri(uri);
    return p && { id: p.id, role: p.role, uri: p.uri, name: p.name };
  }

  signingJwks(partyId: string, at?: Date): JSONWebKeySet {
    return this.directory.jwks(partyId, 'sig', at);
  }

  /**
   * What the gateway publishes (GetJwks): its own key and the registry's gateway keys valid now, so that
   * what it signed before a rotation verifies until the older key's grace period ends.
   */
  gatewaySigningJwks(own: JWK): JSONWebKeySet {
    // A registry without the gateway (hand-made for tests): our own key alone.
    const listed: JSONWebKeySet = this.directory.byId('gateway') ? this.directory.jwks('gateway', 'sig') : { keys: [] };
    if (listed.keys.some((k) => k.kid === own.kid)) return listed;
    return { keys: [...listed.keys, own] };
  }

  encryptionKey(partyId: string, at?: Date): JWK {
    try {
      return this.directory.currentKey(partyId, 'enc', at).jwk;
    } catch (cause) {
      throw new PreconditionFailed('the insurer has no valid encryption key in the registry', { cause });
    }
  }
}
