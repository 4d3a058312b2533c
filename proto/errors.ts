/** Human-readable form of a gRPC failure for the CLIs: status name and the gateway's safe message. */
import { status } from '@grpc/grpc-js';
import { isServiceError } from './connect.js';

export function describeError(error: unknown): string {
  if (isServiceError(error)) return `${status[error.code] ?? error.code}: ${error.details}`;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function statusName(error: unknown): string | undefined {
  return isServiceError(error) ? status[error.code] : undefined;
}
