/** Indexed queries over the audit log, paged by sequence number so memory stays flat on any size. */
import type { Db } from '../storage/db.js';

export interface AuditFilter {
  since?: number;
  until?: number;
  partyId?: string;
  action?: string;
  consentId?: string;
  transferId?: string;
  patientRef?: string;
  afterSeq: number;
  untilSeq?: number;
}

export interface AuditRow {
  seq: number;
  event_json: string;
  leaf_hash: Buffer;
}

export function auditQueries(db: Db) {
  const range = db.prepare('SELECT seq, event_json, leaf_hash FROM audit_events WHERE seq >= ? ORDER BY seq LIMIT ?');
  const bySeq = db.prepare('SELECT seq, event_json, leaf_hash FROM audit_events WHERE seq = ?');
  return {
    range: (start: number, limit: number) => range.all(start, limit) as AuditRow[],
    get: (seq: number) => bySeq.get(seq) as AuditRow | undefined,
    page(filter: AuditFilter, limit: number): AuditRow[] {
      const where = ['seq > @afterSeq'];
      if (filter.untilSeq !== undefined) where.push('seq <= @untilSeq');
      if (filter.since !== undefined) where.push('at >= @since');
      if (filter.until !== undefined) where.push('at < @until');
      if (filter.partyId) where.push(`instr(' ' || parties || ' ', ' ' || @partyId || ' ') > 0`);
      if (filter.action) where.push('action = @action');
      if (filter.consentId) where.push('consent_id = @consentId');
      if (filter.transferId) where.push('transfer_id = @transferId');
      if (filter.patientRef) where.push('patient_ref = @patientRef');
      return db
        .prepare(`SELECT seq, event_json, leaf_hash FROM audit_events WHERE ${where.join(' AND ')} ORDER BY seq LIMIT @limit`)
        .all({
          afterSeq: filter.afterSeq,
          untilSeq: filter.untilSeq ?? null,
          since: filter.since ?? null,
          until: filter.until ?? null,
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
