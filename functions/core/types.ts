// The plain request and response the core works on. Adapters translate each runtime's calling
// convention into a RelayRequest and a RelayResponse back; nothing here knows about clouds.

/** Header map with lower-case names; a repeated header is an array (several Set-Cookie stay several). */
export type HeaderMap = Record<string, string | string[] | undefined>;

/** Marks a body the adapter stopped reading because it passed the size limit. */
export const BODY_TOO_LARGE = Symbol('body-too-large');

export interface RelayRequest {
  method: string;
  /** Request path as received, still percent-encoded: `/get` or `/get/api/users`. */
  path: string;
  /** Raw query string without the leading `?` (`''` when there is none). */
  query: string;
  headers: HeaderMap;
  body: Buffer | typeof BODY_TOO_LARGE;
  /** The caller's address, for x-forwarded-for. */
  clientIp?: string;
  /** The scheme the client used to reach the relay, for x-forwarded-proto. */
  protocol: 'http' | 'https';
  /** Aborted when the client goes away: the upstream call is abandoned too. */
  signal?: AbortSignal;
}

export interface RelayResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** One of the four functions: its name is also its URL segment (`/get`, `/getDownImg`). */
export interface Endpoint {
  name: string;
  method: 'GET' | 'POST' | 'PUT';
}
