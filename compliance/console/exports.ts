/**
 * Downloads of the verified snapshot: CSV for spreadsheets, JSON Lines exactly as logged (so each line's
 * SHA-256(0x00 || line) is its Merkle leaf, as `hdx audit export --format jsonl` writes), and FHIR R4
 * AuditEvent NDJSON through the same mapping as `hdx audit export --format fhir`.
 */
import { leafHash } from '../../keys/transparency/index.js';
import { toFhirAuditEvent } from '../fhir-audit-event.js';
import type { Snapshot } from './verified-log.js';

export const EXPORTS = {
  '/export/events.csv': { type: 'text/csv; charset=utf-8', file: 'hdx-audit-events.csv' },
  '/export/events.jsonl': { type: 'application/jsonl; charset=utf-8', file: 'hdx-audit-events.jsonl' },
  '/export/audit-events.fhir.ndjson': { type: 'application/fhir+ndjson; charset=utf-8', file: 'hdx-audit-events.fhir.ndjson' },
} as const;
export type ExportPath = keyof typeof EXPORTS;

export function isExportPath(path: string): path is ExportPath {
  return Object.hasOwn(EXPORTS, path);
}

const CSV_COLUMNS = ['seq', 'at', 'action', 'actor', 'outcome', 'consent', 'submission', 'transfer', 'decision', 'parties', 'reason'] as const;

/** RFC 4180 field; a leading =+-@ is prefixed with ' so a spreadsheet does not run it as a formula. */
function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function* exportLines(path: ExportPath, snapshot: Snapshot): Generator<string> {
  const origin = snapshot.report.origin;
  switch (path) {
    case '/export/events.csv':
      yield `${CSV_COLUMNS.join(',')}\r\n`;
      for (const { event: e } of snapshot.events) {
        const cells = [String(e.seq), e.at, e.action, e.actor, e.outcome, e.consent ?? '', e.submission ?? '', e.transfer ?? '', e.decision ?? '', e.parties.join(' '), typeof e.details['reason'] === 'string' ? e.details['reason'] : ''];
        yield `${cells.map(csvField).join(',')}\r\n`;
      }
      return;
    case '/export/events.jsonl':
      for (const { json } of snapshot.events) yield `${json}\n`;
      return;
    case '/export/audit-events.fhir.ndjson': {
      const mapping = { origin, trustDomain: origin.split('/')[0] ?? origin };
      for (const { event, json } of snapshot.events) yield `${JSON.stringify(toFhirAuditEvent(event, leafHash(Buffer.from(json, 'utf8')), mapping))}\n`;
      return;
    }
  }
}
