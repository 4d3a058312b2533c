/**
 * A ListEvents page as one `PackedEvents` (proto/hdx/v1/audit.proto): the events' UTF-8 bytes in one
 * buffer, their lengths and stored leaves beside — no message per event to encode here or decode on
 * the officer's side. Only a page of consecutive events, each with a 32-byte stored leaf, packs; any
 * other page (a row missing or malformed) is answered unpacked, so the officer names what is wrong
 * exactly as before.
 */
import type { AuditRow } from '../storage/rows.js';

/** As `PackedEvents` in the proto: event i is eventJson[sum of the lengths before i, + jsonLengths[i]). */
export interface PackedPage {
  firstSeq: number;
  eventJson: Buffer;
  jsonLengths: number[];
  leafHashes: Buffer;
}

/** Whether a page an engine packed itself is whole: consecutive from `start`, 32 bytes of leaf each. */
export function isWholePage(page: PackedPage, start: number): boolean {
  let bytes = 0;
  for (const length of page.jsonLengths) bytes += length;
  return page.firstSeq === start && page.jsonLengths.length > 0 && page.leafHashes.length === 32 * page.jsonLengths.length && bytes === page.eventJson.length;
}

export function packEvents(rows: readonly AuditRow[]): PackedPage | undefined {
  const first = rows[0]?.seq ?? 0;
  let bytes = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    if (row.seq !== first + i || row.leaf_hash.length !== 32) return undefined;
    bytes += Buffer.byteLength(row.event_json, 'utf8');
  }
  const eventJson = Buffer.allocUnsafe(bytes);
  const leafHashes = Buffer.allocUnsafe(32 * rows.length);
  const jsonLengths = new Array<number>(rows.length);
  let at = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const written = eventJson.write(row.event_json, at, 'utf8');
    jsonLengths[i] = written;
    at += written;
    leafHashes.set(row.leaf_hash, 32 * i);
  }
  return { firstSeq: first, eventJson, jsonLengths, leafHashes };
}
