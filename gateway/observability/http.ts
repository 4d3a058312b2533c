/**
 * The operator's local HTTP port: `/metrics` (Prometheus text format), `/healthz` (the process
 * answers) and `/readyz` (the gateway serves and its database answers). Plain HTTP with no client
 * certificate, so a platform's probes and a Prometheus on the same host can use it; bind it to
 * loopback or a management network, never to the parties' network.
 */
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

export interface MetricsServerOptions {
  /** `host:port`; port 0 picks a free one. */
  listen: string;
  registry: Registry;
  /** Why the gateway is not ready, or undefined when it is. */
  notReady(): Promise<string | undefined> | string | undefined;
}

export function parseHostPort(listen: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(listen);
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new TypeError(`the metrics address must be host:port, e.g. 127.0.0.1:9464 (got "${listen}")`);
  return { host: match[1] ?? match[2]!, port };
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { host, port } = parseHostPort(options.listen);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      void Promise.resolve(options.notReady()).then((reason) =>
        res.writeHead(reason ? 503 : 200, { 'content-type': 'text/plain' }).end(`${reason ?? 'ready'}\n`),
      );
    } else if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(text),
        () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n'),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
