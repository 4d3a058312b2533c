/**
 * Client side of the wire: mutual-TLS channels to the gateway and promise-returning calls. Every party's
 * tool (hospital, insurer, regulator) connects through here, so TLS settings live in one place.
 */
import { credentials, Metadata, status, type CallOptions, type Client, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { AuditServiceClient } from './gen/hdx/v1/audit.js';
import { ConsentServiceClient } from './gen/hdx/v1/consent.js';
import { DeliveryServiceClient } from './gen/hdx/v1/delivery.js';
import { DirectoryServiceClient } from './gen/hdx/v1/directory.js';
import { RecordServiceClient } from './gen/hdx/v1/records.js';
import { SettlementServiceClient } from './gen/hdx/v1/settlement.js';
import { gatewayTarget } from './gateway-list.js';

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

export interface GatewayClients {
  consent: ConsentServiceClient;
  records: RecordServiceClient;
  delivery: DeliveryServiceClient;
  directory: DirectoryServiceClient;
  audit: AuditServiceClient;
  settlement: SettlementServiceClient;
  close(): void;
}

/** Largest message a client accepts or sends (the gateway enforces its own limit). */
const MAX_MESSAGE = 16 * 1024 * 1024;

/** `address`: `host:port`, or several (`host:port,host:port`: replicas, tried in order; gateway-list.ts). */
export function connectGateway(address: string, tls: TlsMaterial): GatewayClients {
  const target = gatewayTarget(address);
  const creds = credentials.createSsl(tls.ca, tls.key, tls.cert);
  const options = {
    'grpc.max_receive_message_length': MAX_MESSAGE,
    'grpc.max_send_message_length': MAX_MESSAGE,
  };
  const consent = new ConsentServiceClient(target, creds, options);
  // One channel for all services: later clients reuse the first one's channel.
  const channelOverride = { channelOverride: consent.getChannel() };
  const records = new RecordServiceClient(target, creds, { ...options, ...channelOverride });
  const delivery = new DeliveryServiceClient(target, creds, { ...options, ...channelOverride });
  const directory = new DirectoryServiceClient(target, creds, { ...options, ...channelOverride });
  const audit = new AuditServiceClient(target, creds, { ...options, ...channelOverride });
  const settlement = new SettlementServiceClient(target, creds, { ...options, ...channelOverride });
  return {
    consent,
    records,
    delivery,
    directory,
    audit,
    settlement,
    close: () => consent.close(),
  };
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

/** Calls a unary method and resolves with its response; rejects with the ServiceError. */
export function unaryCall<Req, Res>(
  client: Client,
  method: UnaryMethod<Req, Res>,
  request: Req,
  options: { timeoutMs?: number } = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(
      client,
      request,
      new Metadata(),
      { deadline: Date.now() + (options.timeoutMs ?? 30_000) },
      (error, response) => (error ? reject(error) : resolve(response)),
    );
  });
}

/** Collects or iterates a server stream as an async iterable. */
export async function* streamOf<T>(stream: ClientReadableStream<T>): AsyncGenerator<T> {
  for await (const message of stream) yield message as T;
}

export function isServiceError(error: unknown): error is ServiceError {
  return typeof error === 'object' && error !== null && 'code' in error && 'details' in error && 'metadata' in error;
}

/**
 * A failure that says nothing about the request, only that the gateway could not be reached or finish in
 * time (restarting, at capacity, shut down mid-call): the same call may succeed later.
 */
export function isTransient(error: unknown): boolean {
  return isServiceError(error) && [status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.CANCELLED].includes(error.code);
}

/** The trailer in which the gateway says when to try again (the one gRPC's own retry policies read). */
export const RETRY_PUSHBACK_METADATA = 'grpc-retry-pushback-ms';

/**
 * Resolves after `ms`, or at once when `signal` aborts. The abort listener is removed when the timer fires:
 * a follower that reconnects all day shares one signal, and a listener per reconnect would pile up.
 */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export interface RetryOptions {
  /** Give up (rethrowing the last UNAVAILABLE) once this much time has passed; default 30 s. */
  forMs?: number;
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** Stop waiting (rethrowing the last UNAVAILABLE) when this aborts. */
  signal?: AbortSignal;
  /** Told before each wait: what failed, and how long until the next try. */
  onRetry?: (error: ServiceError, delayMs: number) => void;
}

/**
 * Retries `call` while it fails with UNAVAILABLE (the gateway at capacity, restarting, or out of reach).
 * When the gateway says when to come back (`grpc-retry-pushback-ms`), waits about that long (0.5–1.5×, so
 * refused callers do not return in step); otherwise a random time up to a delay that doubles from
 * `firstDelayMs` to `maxDelayMs` ("full jitter"). Only for idempotent calls: every hdx write carries an
 * idempotency key, so a retry of a call that did land returns its first answer.
 */
export async function retryUnavailable<T>(call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.forMs ?? 30_000);
  const maxDelay = options.maxDelayMs ?? 2_000;
  let delay = options.firstDelayMs ?? 50;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!isServiceError(error) || error.code !== status.UNAVAILABLE) throw error;
      const pushback = Number(error.metadata?.get(RETRY_PUSHBACK_METADATA)[0]);
      const wait = Number.isFinite(pushback) && pushback > 0 ? pushback * (0.5 + Math.random()) : Math.random() * delay;
      if (Date.now() + wait > deadline || options.signal?.aborted) throw error;
      options.onRetry?.(error, wait);
      await sleep(wait, options.signal);
      if (options.signal?.aborted) throw error;
      delay = Math.min(delay * 2, maxDelay);
    }
  }
}

export interface FollowOptions {
  signal?: AbortSignal;
  /** Awaited before each new run; `error` is what ended the last one. */
  beforeReconnect?: (error: ServiceError, delayMs: number) => void | Promise<void>;
  firstDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Keeps a following stream going: whenever a run ends with UNAVAILABLE (the gateway stopping or out of
 * reach) or CANCELLED by the gateway (a forced shutdown), and `signal` has not aborted, waits a random time up to a delay that doubles from `firstDelayMs`
 * (0.5 s) to `maxDelayMs` (15 s) — back to the start once a run has lasted a minute — and runs it again.
 * Safe because every run resumes by itself: the hospital from its stored cursor, the insurer from the
 * gateway's leases. Any other error ends it. Returns each run's result.
 */
export async function keepFollowing<T>(run: () => Promise<T>, options: FollowOptions = {}): Promise<T[]> {
  const first = options.firstDelayMs ?? 500;
  const max = options.maxDelayMs ?? 15_000;
  const results: T[] = [];
  let delay = first;
  for (;;) {
    const started = Date.now();
    try {
      results.push(await run());
      return results;
    } catch (error) {
      const gone = isServiceError(error) && (error.code === status.UNAVAILABLE || error.code === status.CANCELLED);
      if (!gone || options.signal?.aborted) throw error;
      if (Date.now() - started > 60_000) delay = first;
      const wait = Math.random() * delay;
      await sleep(wait, options.signal);
      if (options.signal?.aborted) return results;
      await options.beforeReconnect?.(error, wait);
      delay = Math.min(delay * 2, max);
    }
  }
}
