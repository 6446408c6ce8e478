import type { Writable } from 'node:stream';
import type { ErrorCode } from './errors';

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
  /**
   * The headers came through Node's HTTP parser, which refuses everything BAD_HEADER stands for (names
   * that are not tokens, control characters in values), so they need no second check. Event adapters
   * leave it unset: no parser has seen an event's headers.
   */
  headersParsed?: boolean;
  body: Buffer | typeof BODY_TOO_LARGE;
  /** The caller's address, for x-forwarded-for. */
  clientIp?: string;
  /** The scheme the client used to reach the relay, for x-forwarded-proto. */
  protocol: 'http' | 'https';
  /** Aborted when the client goes away: the upstream call is abandoned too. */
  signal?: CancelSignal;
}

/**
 * The part of an AbortSignal the core uses. An AbortSignal will do; servers pass a lighter one, since
 * an EventTarget per request costs allocations and listener bookkeeping on every request.
 */
export interface CancelSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface RelayResponse {
  status: number;
  headers: Record<string, string | string[]>;
  /** The whole body; empty when it comes as `stream`. */
  body: Buffer;
  /** A body too large to buffer, from `Relay.handleStreaming` only. */
  stream?: StreamedBody;
}

/** One of the five functions: its name is also its URL segment (`/get`, `/getDownImg`). */
export interface Endpoint {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
}

/** How a streamed body ended: `bytes` sent on, and why it was cut short if it was. */
export interface StreamOutcome {
  bytes: number;
  error?: ErrorCode;
  detail?: string;
}

/**
 * A body too large to buffer. Its status and headers are already final, so a failure after them can
 * only cut the answer short: the sink is destroyed and the client sees an incomplete response.
 */
export interface StreamedBody {
  /** Content-Length the upstream declared, when it did. */
  length: number | undefined;
  /** Writes the body into `sink` and ends it; resolves once the body is complete, cut short, or the sink closed. */
  pipeTo(sink: Writable): Promise<StreamOutcome>;
  /** Abandons the body unread: the answer could not be sent, for the reason given (logged). */
  discard(reason: ErrorCode): void;
}
