/**
 * Calls a gateway method with raw request bytes over a party's mutual-TLS channel, as a hostile client
 * would: no generated encoder in between. Resolves with the status (and details) the call ended with.
 */
import { Client, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { GatewayClients } from '../../proto/connect.js';
import { AuditServiceService } from '../../proto/gen/hdx/v1/audit.js';
import { ConsentServiceService } from '../../proto/gen/hdx/v1/consent.js';
import { DeliveryServiceService } from '../../proto/gen/hdx/v1/delivery.js';
import { DirectoryServiceService } from '../../proto/gen/hdx/v1/directory.js';
import { RecordServiceService } from '../../proto/gen/hdx/v1/records.js';
import { SettlementServiceService } from '../../proto/gen/hdx/v1/settlement.js';

export interface RawOutcome {
  code: status;
  details: string;
  /** Messages a server stream sent before it ended. */
  messages: number;
}

const identity = (bytes: Buffer) => bytes;

export function rawClient(session: { clients: GatewayClients }): Client {
  const channel = session.clients.consent.getChannel();
  return new Client('unused', null as never, { channelOverride: channel });
}

/** How a method is called: one request and one response, a response stream, or streams both ways. */
export type CallKind = 'unary' | 'server-stream' | 'bidi';

/**
 * One call of `path` with `bytes` (for `bidi`, the one request message, then the end of the requests).
 * A response stream is cancelled after its first message.
 */
export function rawCall(client: Client, path: string, bytes: Uint8Array, kind: CallKind, timeoutMs = 30_000): Promise<RawOutcome> {
  const options = { deadline: Date.now() + timeoutMs };
  const request = Buffer.from(bytes);
  return new Promise((resolve) => {
    if (kind === 'bidi') {
      let messages = 0;
      const call = client.makeBidiStreamRequest(path, identity, identity, new Metadata(), options);
      call.on('data', () => void (messages += 1));
      call.on('error', (error: ServiceError) => resolve({ code: error.code, details: error.details, messages }));
      call.on('end', () => resolve({ code: status.OK, details: '', messages }));
      call.write(request);
      call.end();
      return;
    }
    if (kind === 'unary') {
      client.makeUnaryRequest(path, identity, identity, request, new Metadata(), options, (error: ServiceError | null) =>
        resolve(error ? { code: error.code, details: error.details, messages: 0 } : { code: status.OK, details: '', messages: 1 }),
      );
      return;
    }
    let messages = 0;
    const call = client.makeServerStreamRequest(path, identity, identity, request, new Metadata(), options);
    // A follow stream would stay open: one message (or the end) is enough to know how the input was taken.
    call.on('data', () => {
      messages += 1;
      call.cancel();
    });
    call.on('error', (error: ServiceError) =>
      resolve({ code: error.code === status.CANCELLED && messages > 0 ? status.OK : error.code, details: error.details, messages }),
    );
    call.on('end', () => resolve({ code: status.OK, details: '', messages }));
  });
}

export interface MethodInfo {
  path: string;
  kind: CallKind;
  decode(bytes: Buffer): unknown;
  encode(request: never): Buffer;
}

/** Every method of the hdx services, from the service definitions (a new RPC is included by itself). */
export const METHODS: MethodInfo[] = [
  ConsentServiceService,
  RecordServiceService,
  DeliveryServiceService,
  DirectoryServiceService,
  SettlementServiceService,
  AuditServiceService,
].flatMap((service) =>
  Object.values(service).map((m) => ({
    path: m.path,
    kind: (m.requestStream ? 'bidi' : m.responseStream ? 'server-stream' : 'unary') as CallKind,
    decode: m.requestDeserialize as (bytes: Buffer) => unknown,
    encode: m.requestSerialize as (request: never) => Buffer,
  })),
);
