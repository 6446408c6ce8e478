import type { RelayResponse } from './types';

// The relay's own failures. They always come back as JSON with an `x-relay-error` header, so a mini
// program can tell them apart from whatever the backend answers (which may also be a 4xx/5xx JSON).
export const ERROR_STATUS = {
  BAD_PATH: 400,
  BAD_BODY: 400,
  BAD_EVENT: 400,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  BODY_TOO_LARGE: 413,
  CONFIG: 500,
  INTERNAL: 500,
  UPSTREAM_UNREACHABLE: 502,
  RESPONSE_TOO_LARGE: 502,
  UPSTREAM_TIMEOUT: 504,
} as const;

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
