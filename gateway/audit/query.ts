/**
 * Indexed queries over the audit log, paged by sequence number so memory stays flat on any size. Every
 * filter reads event_json — the verified bytes — through the expression indexes in schema.ts, never a copy.
 */
import type { Db } from '../storage/db.js';

export type { AuditFilter, AuditRow } from '../storage/rows.js';
import type { AuditFilter, AuditRow } from '../storage/rows.js';
import type { PackedPage } from './packed-events.js';

export function auditQueries(db: Db) {
  const range = db.prepare('SELECT seq, event_json, leaf_hash FROM audit_events WHERE seq >= ? ORDER BY seq LIMIT ?');
  const bySeq = db.prepare('SELECT seq, event_json, leaf_hash FROM audit_events WHERE seq = ?');
  // A page packed by SQLite in one row: the events' bytes, lengths and leaves concatenated in seq order,
  // with no row object, string or Buffer per event. A page with a gap is not packed here.
  const packed = db.prepare(
    // The subquery's ORDER BY is the table's own order (no sort): group_concat with an ORDER BY of its
    // own sorts, about 2.5x the cost. An event out of place would fail the officer's position check.
    `SELECT count(*), min(seq), max(seq), CAST(group_concat(event_json, '') AS BLOB),
       group_concat(length(CAST(event_json AS BLOB)), ','), unhex(group_concat(hex(leaf_hash), ''))
     FROM (SELECT seq, event_json, leaf_hash FROM audit_events WHERE seq >= ? AND seq < ? ORDER BY seq)`,
  ).raw();
  return {
    range: (start: number, limit: number) => range.all(start, limit) as AuditRow[],
    packedRange(start: number, limit: number): PackedPage | undefined {
      const [count, first, last, json, lengths, leaves] = packed.get(start, start + limit) as [number, number | null, number | null, Buffer | null, string | null, Buffer | null];
      if (count === 0 || first === null || last !== first + count - 1 || !json || !lengths || !leaves) return undefined;
      return { firstSeq: first, eventJson: json, jsonLengths: lengths.split(',').map(Number), leafHashes: leaves };
    },
    get: (seq: number) => bySeq.get(seq) as AuditRow | undefined,
    page(filter: AuditFilter, limit: number): AuditRow[] {
      const where = ['seq > @afterSeq'];
      if (filter.untilSeq !== undefined) where.push('seq <= @untilSeq');
      // `at` is an ISO 8601 instant in UTC with milliseconds (toISOString): it sorts as the time does.
      if (filter.since !== undefined) where.push(`json_extract(event_json, '$.at') >= @since`);
      if (filter.until !== undefined) where.push(`json_extract(event_json, '$.at') < @until`);
      if (filter.partyId) {
        where.push(`(json_extract(event_json, '$.actor') = @partyId
          OR EXISTS (SELECT 1 FROM json_each(event_json, '$.parties') WHERE value = @partyId))`);
      }
      if (filter.action) where.push(`json_extract(event_json, '$.action') = @action`);
      if (filter.consentId) where.push(`json_extract(event_json, '$.consent') = @consentId`);
      if (filter.transferId) where.push(`json_extract(event_json, '$.transfer') = @transferId`);
      if (filter.patientRef) where.push(`json_extract(event_json, '$.patient') = @patientRef`);
      return db
        .prepare(`SELECT seq, event_json, leaf_hash FROM audit_events WHERE ${where.join(' AND ')} ORDER BY seq LIMIT @limit`)
        .all({
          afterSeq: filter.afterSeq,
          untilSeq: filter.untilSeq ?? null,
          since: filter.since === undefined ? null : new Date(filter.since).toISOString(),
          until: filter.until === undefined ? null : new Date(filter.until).toISOString(),
          partyId: filter.partyId ?? null,
          action: filter.action ?? null,
          consentId: filter.consentId ?? null,
          transferId: filter.transferId ?? null,
          patientRef: filter.patientRef ?? null,
          limit,
        }) as AuditRow[];
    },
  };
}
