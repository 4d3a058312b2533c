/**
 * The regulator's access to the audit log: filtered queries (each itself audited, naming the filters
 * used but never their values), signed checkpoints, inclusion and consistency proofs, raw ranges.
 */
import type { Gateway } from '../app.js';
import { requireRole } from '../authorize.js';
import { patientKeyOf, patientRef } from '../consent/patient-id.js';
import type { CallContext } from '../context.js';
import { InvalidInput, NotFound } from '../errors.js';
import type { Checkpointer, SignedCheckpoint } from './checkpointer.js';
import type { AuditFilter, AuditRow } from './query.js';
import { isWholePage, packEvents, type PackedPage } from './packed-events.js';

const PAGE = 500;

/** ListEvents' page size: 1,000 unless asked, at most 10,000. */
const pageLimit = (limit: number) => Math.min(Math.max(limit || 1000, 1), 10_000);
/** Leaves per ListTreeNodes request: about twice as many nodes, some 700 kB. */
export const MAX_NODE_SPAN = 10_000;

export interface QueryRequest {
  since?: Date;
  until?: Date;
  partyId?: string;
  action?: string;
  consentId?: string;
  transferId?: string;
  patientNationalId?: string;
  afterSeq?: number;
  untilSeq?: number;
  limit?: number;
}

export function createAuditService(gw: Gateway, checkpointer: Checkpointer) {
  const queries = gw.store.reads.audit;

  /** A time filter as epoch ms; a Timestamp outside the Date range is refused before the query is audited. */
  function timeOf(value: Date | undefined, field: string): number | undefined {
    if (value === undefined) return undefined;
    const time = value.getTime();
    if (!Number.isFinite(time)) throw new InvalidInput(`${field} is outside the range of representable times`);
    return time;
  }

  function assertSeq(value: number, field: string): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new InvalidInput(`${field} must be a non-negative integer`);
  }

  return {
    /**
     * Streams matching events to `send`, page by page; audits the query first. A patient query first
     * hands `sendPatientRef` the keyed hash it searches with, so the officer's tool can filter the
     * events it verified itself rather than trust this search (its indexes are not covered by the log).
     */
    async query(
      ctx: CallContext,
      request: QueryRequest,
      send: (row: AuditRow) => Promise<void>,
      signal: AbortSignal,
      sendPatientRef: (ref: string) => Promise<void> = async () => {},
    ) {
      requireRole(ctx, 'regulator');
      const since = timeOf(request.since, 'since');
      const until = timeOf(request.until, 'until');
      const filter: AuditFilter = {
        afterSeq: request.afterSeq === undefined ? -1 : request.afterSeq,
        ...(request.untilSeq ? { untilSeq: request.untilSeq } : {}),
        ...(since !== undefined ? { since } : {}),
        ...(until !== undefined ? { until } : {}),
        ...(request.partyId ? { partyId: request.partyId } : {}),
        ...(request.action ? { action: request.action } : {}),
        ...(request.consentId ? { consentId: request.consentId } : {}),
        ...(request.transferId ? { transferId: request.transferId } : {}),
        ...(request.patientNationalId
          ? { patientRef: patientRef(patientKeyOf(gw.secrets, request.patientNationalId, 'patient_national_id')) }
          : {}),
      };
      // Bound the query to the log as it is now, so our own audit event is not part of its answer.
      filter.untilSeq = Math.min(filter.untilSeq ?? Number.MAX_SAFE_INTEGER, (await queries.size()) - 1);
      await gw.commit((tx) =>
        gw.audit.append(tx, {
          action: 'audit.query',
          actor: ctx.party.id,
          outcome: 'ok',
          details: { filters: Object.keys(request).filter((k) => request[k as keyof QueryRequest] !== undefined).sort() },
        }),
      );
      if (filter.patientRef) await sendPatientRef(filter.patientRef);
      let remaining = request.limit || Number.POSITIVE_INFINITY;
      while (remaining > 0 && !signal.aborted) {
        const rows = await queries.page(filter, Math.min(PAGE, remaining));
        for (const row of rows) {
          if (signal.aborted) return;
          await send(row);
        }
        if (rows.length < PAGE) return;
        remaining -= rows.length;
        filter.afterSeq = rows[rows.length - 1]!.seq;
      }
    },

    checkpoint(ctx: CallContext): Promise<SignedCheckpoint> {
      requireRole(ctx, 'regulator');
      return checkpointer.current();
    },

    async inclusionProof(ctx: CallContext, seq: number, treeSize: number) {
      requireRole(ctx, 'regulator');
      assertSeq(seq, 'seq');
      assertSeq(treeSize, 'tree_size');
      const size = await gw.audit.tree.size();
      if (treeSize < 1 || treeSize > size) throw new InvalidInput('tree_size must be between 1 and the log size');
      if (seq >= treeSize) throw new InvalidInput('seq must be below tree_size');
      const row = await queries.get(seq);
      if (!row) throw new NotFound('event not found');
      return { row, proof: await gw.audit.tree.inclusionProof(seq, treeSize) };
    },

    async consistencyProof(ctx: CallContext, size1: number, size2: number) {
      requireRole(ctx, 'regulator');
      assertSeq(size1, 'size1');
      assertSeq(size2, 'size2');
      if (size1 < 1 || size1 > size2 || size2 > (await gw.audit.tree.size())) {
        throw new InvalidInput('need 1 <= size1 <= size2 <= the log size');
      }
      return gw.audit.tree.consistencyProof(size1, size2);
    },

    /** The stored subtree hashes completed between two tree sizes (see `TreeReads.nodes`). */
    async treeNodes(ctx: CallContext, fromSize: number, toSize: number) {
      requireRole(ctx, 'regulator');
      assertSeq(fromSize, 'from_size');
      assertSeq(toSize, 'to_size');
      if (fromSize > toSize || toSize > (await gw.audit.tree.size())) {
        throw new InvalidInput('need from_size <= to_size <= the log size');
      }
      if (toSize - fromSize > MAX_NODE_SPAN) throw new InvalidInput(`to_size may be at most ${MAX_NODE_SPAN} above from_size`);
      return gw.audit.tree.nodes(fromSize, toSize);
    },

    range(ctx: CallContext, startSeq: number, limit: number): Promise<AuditRow[]> {
      requireRole(ctx, 'regulator');
      assertSeq(startSeq, 'start_seq');
      return queries.range(startSeq, pageLimit(limit));
    },

    /** The same page packed (`PackedPage`), or its rows when it does not pack (a gap, a malformed leaf). */
    async packedRange(ctx: CallContext, startSeq: number, limit: number): Promise<{ packed: PackedPage } | { rows: AuditRow[] }> {
      requireRole(ctx, 'regulator');
      assertSeq(startSeq, 'start_seq');
      const fromEngine = await queries.packedRange?.(startSeq, pageLimit(limit));
      if (fromEngine && isWholePage(fromEngine, startSeq)) return { packed: fromEngine };
      const rows = await queries.range(startSeq, pageLimit(limit));
      const packed = packEvents(rows);
      return packed ? { packed } : { rows };
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
