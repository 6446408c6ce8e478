import { ERROR_STATUS } from './error-codes';
import type { RelayResponse } from './types';

export { ERROR_STATUS };

export type ErrorCode = keyof typeof ERROR_STATUS;

export class RelayError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra response headers, such as `Allow` on a 405. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'RelayError';
    this.status = ERROR_STATUS[code];
  }
}

export function errorResponse(error: RelayError, requestId: string): RelayResponse {
  const body = Buffer.from(
    JSON.stringify({ error: { code: error.code, message: error.message, requestId } }),
  );
  return {
    status: error.status,
    headers: {
      ...error.headers,
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(body.length),
      'cache-control': 'no-store',
      'x-relay-error': error.code,
      'x-request-id': requestId,
    },
    body,
  };
}
