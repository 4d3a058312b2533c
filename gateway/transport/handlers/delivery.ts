import type { DeliveryServiceServer, PullTransfersRequest, PullTransfersResponse } from '../../../proto/gen/hdx/v1/delivery.js';
import type { Gateway } from '../../app.js';
import { acknowledgeTransfer, pullTransfers } from '../../delivery/service.js';
import { eachItem } from '../../batch.js';
import { itemStatusOf } from '../items.js';
import { serverStream, unary, type Runtime } from '../wrap.js';

export function deliveryHandlers(gw: Gateway, rt: Runtime): DeliveryServiceServer {
  return {
    pullTransfers: serverStream<PullTransfersRequest, PullTransfersResponse>(
      rt,
      'PullTransfers',
      (ctx, req, send, signal) =>
        pullTransfers(
          gw,
          ctx,
          { max: req.maxTransfers, leaseSeconds: req.leaseSeconds, follow: req.follow },
          (transfer) => send({ transfer }),
          signal,
        ),
    ),
    acknowledgeTransfer: unary(rt, 'AcknowledgeTransfer', (ctx, req) =>
      acknowledgeTransfer(gw, ctx, { idempotencyKey: req.idempotencyKey, transferId: req.transferId, receipt: req.receipt }),
    ),
    acknowledgeTransfers: unary(rt, 'AcknowledgeTransfers', async (ctx, req) => ({
      results: (
        await eachItem(req.acknowledgements, (a) =>
          acknowledgeTransfer(gw, ctx, { idempotencyKey: a.idempotencyKey, transferId: a.transferId, receipt: a.receipt }),
        )
      ).map((o) => (o.ok ? { acknowledged: o.value } : { refused: itemStatusOf(rt, 'AcknowledgeTransfers', ctx, o.error) })),
    })),
  };
}
