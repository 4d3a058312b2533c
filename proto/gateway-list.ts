/**
 * Several gateway addresses for one exchange (replicas on one PostgreSQL): `host:port,host:port,…`.
 * A list becomes one grpc-js channel whose resolver (scheme `hdx-gateways`) returns the addresses in the
 * order given, one endpoint each (a host name's every A/AAAA record), and the channel's pick_first policy
 * connects to the first that answers and moves on to the next when it stops: the call in flight fails with
 * UNAVAILABLE, the adapters' own retry re-sends it (idempotency keys make that safe), and the channel
 * reaches the next replica. Every replica presents the gateway's certificate and TLS checks it against the
 * FIRST address's host, so that name must be in the certificate's SAN (localhost, 127.0.0.1 and ::1 always
 * are; `hdx keys init --gateway-address a:7443,b:7443` adds every host, and puts the list in party.json).
 */
import { experimental, Metadata, status } from '@grpc/grpc-js';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

const SCHEME = 'hdx-gateways';

/** The addresses of a `host:port[,host:port…]` setting, trimmed, empty entries dropped. */
export function gatewayAddresses(setting: string): string[] {
  return setting.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
}

/** The grpc-js target for a setting: a single address as before (grpc-js's DNS resolver), a list through ours. */
export function gatewayTarget(setting: string): string {
  const addresses = gatewayAddresses(setting);
  if (addresses.length <= 1) return addresses[0] ?? setting;
  registerOnce();
  return `${SCHEME}:${addresses.join(',')}`;
}

let registered = false;
function registerOnce(): void {
  if (registered) return;
  experimental.registerResolver(SCHEME, GatewayListResolver);
  registered = true;
}

class GatewayListResolver implements experimental.Resolver {
  private resolving = false;
  private destroyed = false;

  constructor(private readonly target: experimental.GrpcUri, private readonly listener: experimental.ResolverListener) {}

  /** TLS's server name: the first address's host. */
  static getDefaultAuthority(target: experimental.GrpcUri): string {
    return target.path.split(',')[0]!;
  }

  updateResolution(): void {
    this.destroyed = false;
    if (this.resolving) return;
    this.resolving = true;
    endpoints(this.target.path.split(','))
      .then(
        (list) => !this.destroyed && this.listener(experimental.statusOrFromValue(list), {}, null, ''),
        (error: Error) =>
          !this.destroyed &&
          this.listener(experimental.statusOrFromError({ code: status.UNAVAILABLE, details: error.message, metadata: new Metadata() }), {}, null, ''),
      )
      .finally(() => (this.resolving = false));
  }

  destroy(): void {
    this.destroyed = true;
  }
}

/** One endpoint per listed address, in order; a name that does not resolve is left out while others do. */
async function endpoints(entries: string[]): Promise<experimental.Endpoint[]> {
  const found = await Promise.all(
    entries.map(async (entry): Promise<experimental.Endpoint | undefined> => {
      const hostPort = experimental.splitHostPort(entry);
      if (!hostPort?.port) throw new Error(`gateway address ${entry} is not host:port`);
      const { host, port } = hostPort;
      if (isIP(host)) return { addresses: [{ host, port }] };
      const records = await lookup(host, { all: true }).catch(() => []);
      return records.length > 0 ? { addresses: records.map((r) => ({ host: r.address, port })) } : undefined;
    }),
  );
  const list = found.filter((endpoint): endpoint is experimental.Endpoint => endpoint !== undefined);
  if (list.length === 0) throw new Error('no gateway address resolves');
  return list;
}
