/**
 * Idempotency records on PostgreSQL (../idempotency.ts's rules). The primary key decides a race between
 * replicas: a second insert of a key fails with 23505, which becomes IdempotencyKeyTaken.
 */
import { Conflict, IdempotencyKeyTaken } from '../../errors.js';
import type { Queryable } from './connect.js';

const UNIQUE_VIOLATION = '23505';

export function idempotencyStatements(q: Queryable) {
  return {
    async lookup<T>(partyId: string, method: string, key: string, requestDigest: string): Promise<T | undefined> {
      const { rows } = await q.query<{ request_digest: string; response: string }>(
        'SELECT request_digest, response FROM idempotency WHERE party_id = $1 AND method = $2 AND idem_key = $3',
        [partyId, method, key],
      );
      const row = rows[0];
      if (!row) return undefined;
      if (row.request_digest !== requestDigest) throw new Conflict('idempotency_key was already used for a different request');
      return JSON.parse(row.response) as T;
    },
    async remember(partyId: string, method: string, key: string, requestDigest: string, response: unknown, at: number): Promise<void> {
      try {
        await q.query('INSERT INTO idempotency VALUES ($1, $2, $3, $4, $5, $6)', [partyId, method, key, requestDigest, JSON.stringify(response), at]);
      } catch (error) {
        if ((error as { code?: string }).code === UNIQUE_VIOLATION) {
          throw new IdempotencyKeyTaken('idempotency_key was committed by another request first', { cause: error });
        }
        throw error;
      }
    },
  };
}
