/**
 * Indexed queries over the audit log, paged by sequence number so memory stays flat on any size. Every
 * filter reads event_json — the verified bytes — through the expression indexes in schema.ts, never a copy.
 */
import type { Db } from '../storage/db.js';

export type { AuditFilter, AuditRow } from '../storage/rows.js';
import type { AuditFilter, AuditRow } from '../storage/rows.js';

export function auditQueries(db: Db) {
  const range = db.prepare('SELECT seq, event_json, leaf_hash FROM audit_events WHERE seq >= ? ORDER BY seq LIMIT ?');
  const bySeq = db.prepare('SELECT seq, event_json, leaf_hash FROM audit_events WHERE seq = ?');
  return {
    range: (start: number, limit: number) => range.all(start, limit) as AuditRow[],
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
