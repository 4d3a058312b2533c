/**
 * hdx keeps times to the millisecond: every signed object and digest writes them as RFC 3339 UTC with
 * exactly three fractional digits (`Date.toISOString()`). ts-proto turns a `google.protobuf.Timestamp`
 * into a `Date`, which silently drops what lies below a millisecond — so a client that sent microseconds
 * would find the consent receipt digesting another instant than its own. Rather than cut, the gateway
 * reads the Timestamps' nanos from the wire and refuses sub-millisecond values, naming the field: whatever
 * it accepts, the client can digest exactly as sent.
 */
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { GrantConsentRequest } from '../../proto/gen/hdx/v1/consent.js';
import { InvalidInput } from '../errors.js';

const SUB_MILLISECOND = Symbol('hdx.subMillisecond');

/** Field paths (proto names) of Timestamps to check, by field number, per message level. */
type Shape = { [field: number]: string | { name: string; fields: Shape } };
const GRANT_CONSENT: Shape = {
  3: {
    name: 'terms',
    fields: { 7: 'valid_from', 8: 'valid_until', 9: { name: 'capture', fields: { 2: 'captured_at' } } },
  },
};

function timestampNanos(bytes: Uint8Array): number {
  const reader = new BinaryReader(bytes);
  let nanos = 0;
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    if (field === 2 && wire === WireType.Varint) nanos = reader.int32();
    else reader.skip(wire);
  }
  return nanos;
}

/** Names of the Timestamps in `bytes` (a message of `shape`) that are not whole milliseconds. */
export function subMillisecondFields(bytes: Uint8Array, shape: Shape, prefix = ''): string[] {
  const found: string[] = [];
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    const known = shape[field];
    if (known === undefined || wire !== WireType.LengthDelimited) {
      reader.skip(wire);
      continue;
    }
    const inner = reader.bytes();
    if (typeof known === 'string') {
      if (timestampNanos(inner) % 1_000_000 !== 0) found.push(prefix + known);
    } else found.push(...subMillisecondFields(inner, known.fields, `${prefix}${known.name}.`));
  }
  return found;
}

/** The consent service with GrantConsent's request marked when a Timestamp has sub-millisecond precision. */
export function withMillisecondCheck<S extends ServiceDefinition>(service: S): S {
  const grant = service['grantConsent'];
  if (!grant) return service;
  return {
    ...service,
    grantConsent: {
      ...grant,
      requestDeserialize: (bytes: Buffer) => {
        const message = GrantConsentRequest.decode(bytes);
        let fields: string[] = [];
        try {
          fields = subMillisecondFields(bytes, GRANT_CONSENT);
        } catch {
          // Malformed bytes fail in decode above; nothing more to say here.
        }
        if (fields.length > 0) Object.defineProperty(message, SUB_MILLISECOND, { value: fields });
        return message;
      },
    },
  };
}

/** Refuses a request whose Timestamps were not whole milliseconds (see withMillisecondCheck). */
export function requireMillisecondTimes(request: object): void {
  const fields = (request as { [SUB_MILLISECOND]?: string[] })[SUB_MILLISECOND];
  if (fields && fields.length > 0) {
    throw new InvalidInput(
      `${fields.join(', ')} ${fields.length === 1 ? 'has' : 'have'} sub-millisecond precision; hdx keeps times to the millisecond (Timestamp.nanos must be a multiple of 1000000)`,
    );
  }
}
