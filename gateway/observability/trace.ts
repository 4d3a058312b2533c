/**
 * The trace id of a call: made when the call arrives, sent to the caller at once in the response
 * headers (and again in the trailers of an error), and written in the gateway's log line for the call,
 * so a party quoting it lets the operator find exactly that call. Random: it says nothing about content.
 */
import { Metadata } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';

export const TRACE_ID_METADATA = 'x-hdx-trace-id';

export function sendTraceId(call: { sendMetadata(metadata: Metadata): void }): string {
  const traceId = randomUUID();
  const metadata = new Metadata();
  metadata.set(TRACE_ID_METADATA, traceId);
  call.sendMetadata(metadata);
  return traceId;
}
