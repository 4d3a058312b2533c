/**
 * Request decoding that fails as the client's error. grpc-js answers a deserializer that throws with
 * INTERNAL "Error deserializing request", and the generated decoders throw on garbage bytes and on a
 * uint64 above 2^53 − 1. So each service definition's request deserializer is wrapped: a failure yields a
 * marker instead, and the handler wrapper (`wrap.ts`) refuses it with INVALID_ARGUMENT — after the
 * caller is identified, and with a message that echoes nothing of the bytes.
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import { InvalidInput } from '../errors.js';

const UNDECODABLE = Symbol('undecodable request');

interface Undecodable {
  readonly [UNDECODABLE]: string;
}

/** The generated decoders' message for a 64-bit value beyond what a JavaScript number holds exactly. */
const TOO_LARGE_INTEGER = 'Value is larger than Number.MAX_SAFE_INTEGER';

function undecodable(rpc: string, error: unknown): Undecodable {
  const reason =
    error instanceof Error && error.message === TOO_LARGE_INTEGER
      ? 'request holds an integer above 2^53 - 1, the largest this gateway accepts'
      : `request bytes do not decode as a ${rpc} request`;
  return { [UNDECODABLE]: reason };
}

/** The definition with every request deserializer made total. */
export function safeDecoding<D extends ServiceDefinition>(definition: D): D {
  const methods = Object.entries(definition).map(([name, method]) => {
    const rpc = method.path.split('/').pop() ?? name;
    const decode = method.requestDeserialize;
    const requestDeserialize = (bytes: Buffer) => {
      try {
        return decode(bytes);
      } catch (error) {
        return undecodable(rpc, error);
      }
    };
    return [name, { ...method, requestDeserialize }];
  });
  return Object.fromEntries(methods) as D;
}

/** Throws INVALID_ARGUMENT if the request could not be decoded. */
export function requireDecoded(request: unknown): void {
  if (typeof request === 'object' && request !== null && UNDECODABLE in request) {
    throw new InvalidInput((request as Undecodable)[UNDECODABLE]);
  }
}
