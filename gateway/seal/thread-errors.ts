/**
 * Errors across the seal worker pool. A worker thread's thrown error reaches the main thread as a
 * structured clone, which keeps `message` but not the class or `code`: an `InvalidInput` from
 * de-identification would become INTERNAL. So a worker returns a coded error as data — class name,
 * code, message — and the main thread rebuilds the same class. Other errors (ours to fix) are thrown as
 * they are.
 */
import * as complianceErrors from '../../compliance/errors.js';
import { CodedError } from '../../keys/coded-error.js';
import * as keysErrors from '../../keys/errors.js';
import * as transparencyErrors from '../../keys/transparency/errors.js';
import * as deidErrors from '../deid/engine/errors.js';
import * as gatewayErrors from '../errors.js';

/** A coded error as data: what crosses from a worker in its place. */
export interface ThreadError {
  threadError: true;
  name: string;
  code: string;
  message: string;
}

type CodedClass = abstract new (...args: never[]) => CodedError;

/** Every coded error class, by name (names are unique across the modules). */
const CLASSES = new Map<string, CodedClass>(
  [gatewayErrors, deidErrors, keysErrors, transparencyErrors, complianceErrors]
    .flatMap((module) => Object.values(module))
    .filter((value): value is CodedClass => typeof value === 'function' && value.prototype instanceof CodedError)
    .map((cls) => [cls.name, cls]),
);

/** Worker side: a coded error as data; any other error as it is. */
export function toThread(error: unknown): unknown {
  if (error instanceof CodedError && CLASSES.has(error.name)) {
    const data: ThreadError = { threadError: true, name: error.name, code: error.code, message: error.message };
    return data;
  }
  return error;
}

/** Main-thread side: a worker's coded error rebuilt as its own class; anything else as it came. */
export function fromThread(value: unknown): unknown {
  const data = value as Partial<ThreadError> | null;
  if (typeof data !== 'object' || data === null || data.threadError !== true) return value;
  const cls = CLASSES.get(String(data.name));
  if (!cls) return new Error('a seal worker failed with an unknown error class');
  // Construct through Error so the rebuilt error has a stack here, then give it its class and code.
  const error = Reflect.construct(Error, [String(data.message)], cls) as CodedError;
  error.name = String(data.name);
  error.code = String(data.code);
  return error;
}
