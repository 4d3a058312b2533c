/**
 * Observability wired into a gateway in one call: metrics (and their HTTP port when asked for),
 * health for every service, reflection, and certificate-expiry warnings in the log. server.ts calls
 * `observe` before binding and `ready`/`stop` around serving.
 */
import type { Server, ServiceDefinition } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Gateway } from '../app.js';
import type { Sealer } from '../seal/sealer.js';
import { countAuditEvents } from './audit-counters.js';
import { addHealth, addReflection, serviceName } from './grpc-services.js';
import { startMetricsServer, type MetricsServer } from './http.js';
import { CERTIFICATE_WARNING_DAYS, certificateExpiries, registerGauges, type GatewayMetrics } from './metrics.js';

export { TRACE_ID_METADATA } from './trace.js';
export { createMetrics, callObserver, commitObserver, type GatewayMetrics } from './metrics.js';

const DAY_MS = 24 * 3600 * 1000;

export interface Observability {
  /** The metrics port, once `serve` has bound it. */
  metricsPort?: number;
  /** After the gRPC server is bound: health SERVING, metrics port open, expiry checks running. */
  serve(metricsListen?: string): Promise<void>;
  stop(): Promise<void>;
}

export function observeGateway(options: {
  metrics: GatewayMetrics;
  server: Server;
  services: ServiceDefinition[];
  gateway: Gateway;
  sealer: Sealer;
  certificates: Record<string, Buffer | string>;
  logger: Logger;
}): Observability {
  const { server, gateway: gw, logger } = options;
  const { metrics } = options;
  registerGauges(metrics, { gateway: gw, sealer: options.sealer, certificates: options.certificates });
  const stopCounting = countAuditEvents(gw, metrics);
  const health = addHealth(server, options.services.map(serviceName));
  health.set('NOT_SERVING');
  addReflection(server);
  let serving = false;
  let http: MetricsServer | undefined;
  let expiryTimer: NodeJS.Timeout | undefined;

  const warnExpiring = () => {
    for (const { name, days } of certificateExpiries(options.certificates, gw.clock())) {
      if (days < CERTIFICATE_WARNING_DAYS) {
        logger.warn({ certificate: name, days: Math.floor(days) }, days <= 0 ? 'certificate expired' : 'certificate expires soon: renew it');
      }
    }
  };

  const self: Observability = {
    async serve(metricsListen) {
      serving = true;
      health.set('SERVING');
      warnExpiring();
      expiryTimer = setInterval(warnExpiring, DAY_MS);
      expiryTimer.unref();
      if (metricsListen) {
        http = await startMetricsServer({
          listen: metricsListen,
          registry: metrics.registry,
          notReady: async () => {
            if (!serving) return 'stopping';
            try {
              await gw.store.reads.ping();
              return undefined;
            } catch {
              return 'database unavailable';
            }
          },
        });
        self.metricsPort = http.port;
        logger.info({ port: http.port }, 'metrics listening');
      }
    },
    async stop() {
      serving = false;
      health.set('NOT_SERVING');
      if (expiryTimer) clearInterval(expiryTimer);
      stopCounting();
      await http?.close();
    },
  };
  return self;
}
