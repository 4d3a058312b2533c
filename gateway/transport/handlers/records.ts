import { TransferState, type RecordServiceServer } from '../../../proto/gen/hdx/v1/records.js';
import type { Gateway } from '../../app.js';
import { getSubmission, submitRecord } from '../../records/service.js';
import type { TransferState as DomainState } from '../../storage/transfers.js';
import { purposeIn } from '../mapping.js';
import { submitRecords } from '../../records/stream.js';
import { itemStatusOf } from '../items.js';
import { bidiStream, unary, type Runtime } from '../wrap.js';

const STATE_OUT: Record<DomainState, TransferState> = {
  pending: TransferState.TRANSFER_STATE_PENDING,
  delivered: TransferState.TRANSFER_STATE_DELIVERED,
  acknowledged: TransferState.TRANSFER_STATE_ACKNOWLEDGED,
  withheld: TransferState.TRANSFER_STATE_WITHHELD,
  decided: TransferState.TRANSFER_STATE_DECIDED,
};

const dateOrUndefined = (ms: number | null) => (ms === null ? undefined : new Date(ms));

export function recordHandlers(gw: Gateway, rt: Runtime): RecordServiceServer {
  return {
    submitRecord: unary(rt, 'SubmitRecord', async (ctx, req) => {
      const result = await submitRecord(gw, ctx, {
        idempotencyKey: req.idempotencyKey,
        bundle: req.bundle,
        purpose: purposeIn(req.purpose),
        signature: req.signature,
      });
      return result;
    }),
    submitRecords: bidiStream(rt, 'SubmitRecords', async (ctx, requests, send) => {
      async function* records() {
        for await (const req of requests) {
          const r = req.record;
          yield {
            sequence: req.sequence,
            request: { idempotencyKey: r?.idempotencyKey ?? '', bundle: r?.bundle ?? new Uint8Array(), purpose: purposeIn(r?.purpose ?? 0), signature: r?.signature ?? '' },
          };
        }
      }
      await submitRecords(gw, ctx, records(), (outcome) => {
        if ('result' in outcome) return send({ sequence: outcome.sequence, accepted: outcome.result });
        return send({ sequence: outcome.sequence, refused: itemStatusOf(rt, 'SubmitRecords', ctx, outcome.error) });
      });
    }),
    getSubmission: unary(rt, 'GetSubmission', async (ctx, req) => {
      const s = await getSubmission(gw, ctx, req.submissionId);
      return {
        submissionId: s.submissionId,
        acceptedAt: s.acceptedAt,
        transfers: s.transfers.map((t) => ({
          transferId: t.transferId,
          insurerId: t.insurerId,
          state: STATE_OUT[t.state],
          deliveredAt: dateOrUndefined(t.deliveredAt),
          acknowledgedAt: dateOrUndefined(t.acknowledgedAt),
          decidedAt: dateOrUndefined(t.decidedAt),
        })),
      };
    }),
  };
}
