import type { AuditServiceServer, QueryEventsRequest, QueryEventsResponse } from '../../../proto/gen/hdx/v1/audit.js';
import type { CallContext } from '../../context.js';
import { InvalidInput } from '../../errors.js';
import type { AuditRow } from '../../audit/query.js';
import type { AuditService } from '../../audit/service.js';
import { serverStream, unary, type Runtime } from '../wrap.js';

const eventOut = (row: AuditRow) => ({ seq: row.seq, eventJson: row.event_json, leafHash: row.leaf_hash });

export function auditHandlers(audit: AuditService, rt: Runtime, evidence: (ctx: CallContext, transferId: string) => Promise<string>): AuditServiceServer {
  return {
    queryEvents: serverStream<QueryEventsRequest, QueryEventsResponse>(rt, 'QueryEvents', (ctx, req, send, signal) =>
      audit.query(
        ctx,
        {
          ...(req.since ? { since: req.since } : {}),
          ...(req.until ? { until: req.until } : {}),
          ...(req.partyId ? { partyId: req.partyId } : {}),
          ...(req.action ? { action: req.action } : {}),
          ...(req.consentId ? { consentId: req.consentId } : {}),
          ...(req.transferId ? { transferId: req.transferId } : {}),
          ...(req.patientNationalId ? { patientNationalId: req.patientNationalId } : {}),
          // proto3 cannot tell an unset after_seq from 0: 0 means from the start (else event 0 is never returned).
          ...(req.afterSeq ? { afterSeq: req.afterSeq } : {}),
          ...(req.untilSeq ? { untilSeq: req.untilSeq } : {}),
          ...(req.limit ? { limit: req.limit } : {}),
        },
        (row) => send({ event: eventOut(row), patientRef: '' }),
        signal,
        (ref) => send({ event: undefined, patientRef: ref }),
      ),
    ),
    getCheckpoint: unary(rt, 'GetCheckpoint', async (ctx) => {
      const cp = await audit.checkpoint(ctx);
      return { checkpoint: cp.note, treeSize: cp.treeSize };
    }),
    getInclusionProof: unary(rt, 'GetInclusionProof', async (ctx, req) => {
      const { row, proof } = await audit.inclusionProof(ctx, req.seq, req.treeSize);
      return { seq: req.seq, treeSize: req.treeSize, proof, event: eventOut(row) };
    }),
    getConsistencyProof: unary(rt, 'GetConsistencyProof', async (ctx, req) => ({
      size1: req.size1,
      size2: req.size2,
      proof: await audit.consistencyProof(ctx, req.size1, req.size2),
    })),
    listEvents: unary(rt, 'ListEvents', async (ctx, req) => {
      if (!req.packed) return { events: (await audit.range(ctx, req.startSeq, req.limit)).map(eventOut), packed: undefined };
      const page = await audit.packedRange(ctx, req.startSeq, req.limit);
      return 'packed' in page ? { events: [], packed: page.packed } : { events: page.rows.map(eventOut), packed: undefined };
    }),
    listTreeNodes: unary(rt, 'ListTreeNodes', async (ctx, req) => ({ runs: (await audit.treeNodes(ctx, req.fromSize, req.toSize)).map((r) => ({ level: r.level, firstIndex: r.first, hashes: r.hashes })) })),
    getEvidence: unary(rt, 'GetEvidence', async (ctx, req) => {
      if (!req.transferId) throw new InvalidInput('transfer_id is required');
      return { evidenceJson: await evidence(ctx, req.transferId) };
    }),
  };
}
