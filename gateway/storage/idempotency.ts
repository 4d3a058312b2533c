/**
 * Idempotency records: a retried request (same party, method and key) gets the first answer; the same
 * key with different content is a conflict, never silently a second action.
 */
import { Conflict, InvalidInput } from '../errors.js';
import type { Db } from './db.js';

export function idempotencyRepository(db: Db) {
  const get = db.prepare('SELECT request_digest, response FROM idempotency WHERE party_id = ? AND method = ? AND idem_key = ?');
  const put = db.prepare('INSERT INTO idempotency VALUES (?, ?, ?, ?, ?, ?)');
  return {
    /** The stored response for a replay, undefined for a new key; throws Conflict on a reused key. */
    lookup<T>(partyId: string, method: string, key: string, requestDigest: string): T | undefined {
      const row = get.get(partyId, method, key) as { request_digest: string; response: string } | undefined;
      if (!row) return undefined;
      if (row.request_digest !== requestDigest) {
        throw new Conflict('idempotency_key was already used for a different request');
      }
      return JSON.parse(row.response) as T;
    },
    remember(partyId: string, method: string, key: string, requestDigest: string, response: unknown, at: number): void {
      put.run(partyId, method, key, requestDigest, JSON.stringify(response), at);
    },
  };
}

export type IdempotencyRepository = ReturnType<typeof idempotencyRepository>;

const KEY = /^[A-Za-z0-9._:\-]{8,128}$/;

/** Refuses a malformed idempotency key, with the one message every method gives. */
export function requireIdempotencyKey(key: string): void {
  if (!KEY.test(key)) throw new InvalidInput('idempotency_key must be 8-128 characters of [A-Za-z0-9._:-]');
}
