/**
 * Wraps domain functions as grpc-js handlers: identify the caller, run the domain call, map errors to
 * a status, and log one line per call (method, party, outcome, duration — never request content).
 */
import {
  Metadata,
  status,
  type handleBidiStreamingCall,
  type handleServerStreamingCall,
  type ServerDuplexStream,
  type handleUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { CallContext, PartyLookup } from '../context.js';
import { Unavailable } from '../errors.js';
import { requireDecoded } from './decoding.js';
import { contextOf, peerCertificate, recheckCaller } from './identity.js';
import { RETRY_PUSHBACK_METADATA } from '../../proto/connect.js';
import { toWireError } from './status.js';
import type { CallObserver } from '../observability/metrics.js';
import { sendTraceId, TRACE_ID_METADATA } from '../observability/trace.js';

export interface Runtime {
  /** `onReload` (the registry's): called after each reload, so open streams re-check their caller. */
  parties: PartyLookup & { onReload?(listener: () => void): () => void };
  logger: Logger;
  /** The gateway's clock, for certificate validity (default Date.now). */
  clock?: () => number;
  /** Aborted when the gateway starts to stop: open streams then end with UNAVAILABLE, so clients follow again. */
  closing?: AbortSignal;
  /** Metrics: every finished call's method, status and duration. */
  observe?: CallObserver;
}

function logOutcome(rt: Runtime, method: string, ctx: CallContext | undefined, started: number, traceId: string, error?: unknown) {
  const elapsed = performance.now() - started;
  const fields = {
    method,
    party: ctx?.party.id,
    trace: traceId,
    ms: Math.round(elapsed),
  };
  if (error === undefined) {
    rt.observe?.call(method, 'OK', elapsed / 1000);
    return rt.logger.info({ ...fields, code: 'OK' }, 'call');
  }
  const wire = toWireError(error);
  rt.observe?.call(method, status[wire.code], elapsed / 1000);
  const errorFields = { ...fields, code: status[wire.code], details: wire.details };
  if (wire.internal) {
    // The error's own class and stack frames only: its message may quote input.
    const err = error as { name?: string; code?: unknown; stack?: string };
    rt.logger.error(
      { ...errorFields, error: err?.name, errorCode: err?.code, frames: err?.stack?.split('\n').slice(1, 6).join('\n') },
      'call failed',
    );
  } else {
    rt.logger.warn(errorFields, 'call refused');
  }
}

export function unary<Req, Res>(
  rt: Runtime,
  method: string,
  fn: (ctx: CallContext, request: Req) => Promise<Res> | Res,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const started = performance.now();
    const traceId = sendTraceId(call);
    let ctx: CallContext | undefined;
    (async () => {
      const peer = peerCertificate(call);
      ctx = contextOf(peer, rt.parties, (rt.clock ?? Date.now)(), traceId);
      rt.observe?.peer(ctx.party.id, peer.notAfter);
      requireDecoded(call.request);
      return fn(ctx, call.request);
    })().then(
      (response) => {
        logOutcome(rt, method, ctx, started, traceId);
        callback(null, response);
      },
      (error: unknown) => {
        logOutcome(rt, method, ctx, started, traceId, error);
        const wire = toWireError(error);
        const metadata = new Metadata();
        metadata.set(TRACE_ID_METADATA, traceId);
        if (wire.retryAfterMs !== undefined) metadata.set(RETRY_PUSHBACK_METADATA, String(wire.retryAfterMs));
        callback({ code: wire.code, details: wire.details, metadata });
      },
    );
  };
}

export function serverStream<Req, Res>(
  rt: Runtime,
  method: string,
  fn: (ctx: CallContext, request: Req, send: (message: Res) => Promise<void>, signal: AbortSignal) => Promise<void>,
): handleServerStreamingCall<Req, Res> {
  return (call: ServerWritableStream<Req, Res>) => {
    const started = performance.now();
    const traceId = sendTraceId(call);
    const clock = rt.clock ?? Date.now;
    const abort = new AbortController();
    call.on('cancelled', () => abort.abort());
    call.on('close', () => abort.abort());
    const onClosing = () => abort.abort();
    rt.closing?.addEventListener('abort', onClosing, { once: true });
    let ctx: CallContext | undefined;
    // Set when the caller is no longer allowed (certificate expired, party removed): the stream ends with it.
    let refused: unknown;
    let stopWatching: (() => void) | undefined;
    const aborted = new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve(), { once: true }));
    (async () => {
      const peer = peerCertificate(call);
      const current = contextOf(peer, rt.parties, clock(), traceId);
      ctx = current;
      rt.observe?.peer(current.party.id, peer.notAfter);
      requireDecoded(call.request);
      /** False (and the stream ends with the reason) once the caller is no longer allowed. */
      const stillAllowed = (): boolean => {
        try {
          recheckCaller(peer, rt.parties, current, clock());
          return true;
        } catch (error) {
          refused ??= error;
          abort.abort();
          return false;
        }
      };
      // A registry reload ends the streams of parties it no longer allows, even while they wait; so does
      // the certificate's expiry (before the next message would have to be leased and then refused).
      const stopReloads = rt.parties.onReload?.(() => void stillAllowed());
      let expiry: NodeJS.Timeout;
      const watchExpiry = () => {
        // Timers hold at most ~24.8 days: re-armed until the certificate's end.
        expiry = setTimeout(() => stillAllowed() && watchExpiry(), Math.min(Math.max(peer.notAfter - clock() + 1, 0), 2 ** 31 - 1));
        expiry.unref();
      };
      watchExpiry();
      stopWatching = () => {
        stopReloads?.();
        clearTimeout(expiry);
      };
      const send = async (message: Res) => {
        // Checked for every message, not only the first: a stream outlives certificates and registry entries.
        if (!abort.signal.aborted) stillAllowed();
        if (refused) throw refused;
        if (abort.signal.aborted) return;
        // Respect flow control: wait for the buffer to drain rather than buffering a whole log in memory.
        if (!call.write(message)) await Promise.race([new Promise((resolve) => call.once('drain', resolve)), aborted]);
      };
      await fn(current, call.request, send, abort.signal);
      if (refused) throw refused;
      if (rt.closing?.aborted) throw new Unavailable('the gateway is shutting down; follow again shortly');
    })().then(
      () => {
        stopWatching?.();
        rt.closing?.removeEventListener('abort', onClosing);
        logOutcome(rt, method, ctx, started, traceId);
        call.end();
      },
      (error: unknown) => {
        stopWatching?.();
        rt.closing?.removeEventListener('abort', onClosing);
        logOutcome(rt, method, ctx, started, traceId, error);
        const wire = toWireError(error);
        const metadata = new Metadata();
        metadata.set(TRACE_ID_METADATA, traceId);
        call.emit('error', { code: wire.code, details: wire.details, metadata });
      },
    );
  };
}

/**
 * A bidirectional stream of items (`SubmitRecords`): `fn` reads the requests and sends responses. The
 * caller is checked again before each request is handed to `fn` (as `serverStream` does before each
 * response), so a party removed or a certificate expired mid-stream ends the stream with that refusal.
 */
export function bidiStream<Req, Res>(
  rt: Runtime,
  method: string,
  fn: (ctx: CallContext, requests: AsyncIterable<Req>, send: (message: Res) => Promise<void>) => Promise<void>,
): handleBidiStreamingCall<Req, Res> {
  return (call: ServerDuplexStream<Req, Res>) => {
    const started = performance.now();
    const traceId = sendTraceId(call);
    const clock = rt.clock ?? Date.now;
    let ctx: CallContext | undefined;
    let stopWatching: (() => void) | undefined;
    let refused: unknown;
    const onClosing = () => {
      refused ??= new Unavailable('the gateway is shutting down; submit the rest shortly');
    };
    rt.closing?.addEventListener('abort', onClosing, { once: true });
    (async () => {
      const peer = peerCertificate(call);
      const current = contextOf(peer, rt.parties, clock(), traceId);
      ctx = current;
      rt.observe?.peer(current.party.id, peer.notAfter);
      const check = () => {
        try {
          recheckCaller(peer, rt.parties, current, clock());
        } catch (error) {
          refused ??= error;
        }
        if (refused) throw refused;
      };
      // A reload that drops the party refuses the next request and every response not yet sent.
      stopWatching = rt.parties.onReload?.(() => {
        try {
          check();
        } catch {
          // kept in `refused`
        }
      });
      async function* requests(): AsyncGenerator<Req> {
        // Not `for await (… of call)`: its end would destroy the duplex, responses and status included.
        for await (const request of call.iterator({ destroyOnReturn: false }) as AsyncIterable<Req>) {
          check();
          requireDecoded(request);
          yield request;
        }
      }
      // Items complete concurrently: every send that finds the buffer full waits on one 'drain', not one listener each.
      let drained: Promise<void> | undefined;
      const send = async (message: Res) => {
        check();
        if (call.destroyed || call.writableEnded) return;
        if (!call.write(message)) {
          drained ??= new Promise<void>((resolve) =>
            call.once('drain', () => {
              drained = undefined;
              resolve();
            }),
          );
          await drained;
        }
      };
      await fn(current, requests(), send);
      if (refused) throw refused;
    })().then(
      () => {
        stopWatching?.();
        rt.closing?.removeEventListener('abort', onClosing);
        logOutcome(rt, method, ctx, started, traceId);
        call.end();
      },
      (error: unknown) => {
        stopWatching?.();
        rt.closing?.removeEventListener('abort', onClosing);
        const reason = refused ?? error;
        logOutcome(rt, method, ctx, started, traceId, reason);
        const wire = toWireError(reason);
        const metadata = new Metadata();
        metadata.set(TRACE_ID_METADATA, traceId);
        call.emit('error', { code: wire.code, details: wire.details, metadata });
      },
    );
  };
}
