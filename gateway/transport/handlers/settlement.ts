import type {
  SettlementServiceServer,
  StreamDecisionsRequest,
  StreamDecisionsResponse,
} from '../../../proto/gen/hdx/v1/settlement.js';
import type { Gateway } from '../../app.js';
import { submitDecision } from '../../settlement/decide.js';
import { acknowledgeDecisions } from '../../settlement/retention.js';
import { getServiceLevels } from '../../settlement/service-levels.js';
import { streamDecisions } from '../../settlement/stream.js';
import { eachItem } from '../../batch.js';
import { itemStatusOf } from '../items.js';
import { serverStream, unary, type Runtime } from '../wrap.js';

export function settlementHandlers(gw: Gateway, rt: Runtime): SettlementServiceServer {
  return {
    submitDecision: unary(rt, 'SubmitDecision', (ctx, req) =>
      submitDecision(gw, ctx, { idempotencyKey: req.idempotencyKey, decision: req.decision }),
    ),
    submitDecisions: unary(rt, 'SubmitDecisions', async (ctx, req) => ({
      results: (await eachItem(req.decisions, (d) => submitDecision(gw, ctx, { idempotencyKey: d.idempotencyKey, decision: d.decision }))).map(
        (o) => (o.ok ? { recorded: o.value } : { refused: itemStatusOf(rt, 'SubmitDecisions', ctx, o.error) }),
      ),
    })),
    streamDecisions: serverStream<StreamDecisionsRequest, StreamDecisionsResponse>(rt, 'StreamDecisions', (ctx, req, send, signal) =>
      streamDecisions(gw, ctx, { afterCursor: req.afterCursor, follow: req.follow }, send, signal),
    ),
    acknowledgeDecisions: unary(rt, 'AcknowledgeDecisions', (ctx, req) =>
      acknowledgeDecisions(gw, ctx, { throughCursor: Number(req.throughCursor) }),
    ),
    getServiceLevels: unary(rt, 'GetServiceLevels', (ctx, req) =>
      getServiceLevels(gw, ctx, {
        ...(req.since && { since: req.since }),
        ...(req.until && { until: req.until }),
        ...(req.insurerId && { insurerId: req.insurerId }),
      }),
    ),
  };
}
