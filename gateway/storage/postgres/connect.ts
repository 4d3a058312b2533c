/**
 * Connection settings shared by the engine's pool and its dedicated connections: int8 (BIGINT, COUNT)
 * comes back as a JS number — every BIGINT hdx stores is a ms time, a seq or a count, far below 2^53 — and
 * a value that would lose precision is an error, never a silently rounded number.
 */
import pg from 'pg';

const INT8 = 20;

export function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError('a BIGINT value is outside the safe integer range');
  return value;
}

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export function clientConfig(connectionString: string): pg.ClientConfig {
  return { connectionString, types, application_name: 'hdx-gateway' };
}

/** What both a pooled client (inside a batch) and the pool (committed reads) answer. */
export type Queryable = Pick<pg.ClientBase, 'query'>;
