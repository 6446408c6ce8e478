import type { OutgoingHttpHeaders } from 'node:http';
import type { HeaderMap } from './types';

// Every header rule lives here: what goes upstream, and what comes back to the client.

/** Hop-by-hop headers (RFC 9110 7.6.1, plus the proxy ones): they describe one connection, not the message. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
]);

/** Request headers the relay sets itself, or that only made sense between the client and the relay. */
const REPLACED_ON_REQUEST = new Set(['host', 'content-length', 'expect', 'x-forwarded-proto', 'x-forwarded-host']);

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const UNSAFE_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface ForwardContext {
  upstreamHost: string;
  requestId: string;
  clientIp: string | undefined;
  protocol: 'http' | 'https';
  /** Length of the body sent upstream; undefined when no body is sent. */
  bodyLength: number | undefined;
}

/** A client-supplied x-request-id if it is sane, otherwise a new one. */
export function pickRequestId(headers: HeaderMap, makeId: () => string): string {
  const given = first(headers['x-request-id']);
  return given !== undefined && REQUEST_ID.test(given) ? given : makeId();
}

export function upstreamRequestHeaders(client: HeaderMap, context: ForwardContext): OutgoingHttpHeaders {
  const dropped = connectionListed(client['connection']);
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(client)) {
    if (value === undefined || HOP_BY_HOP.has(name) || REPLACED_ON_REQUEST.has(name) || dropped.has(name)) continue;
    if (name === 'x-forwarded-for') continue; // rebuilt below
    // x-relay-* are the relay's own (its signature among them): a client may not forge them.
    if (name.startsWith('x-relay-')) continue;
    // Values a runtime passed through unchecked must not split the upstream request.
    if (!TOKEN.test(name) || [value].flat().some((item) => UNSAFE_VALUE.test(item))) continue;
    headers[name] = value;
  }
  headers['host'] = context.upstreamHost;
  if (context.bodyLength !== undefined) headers['content-length'] = String(context.bodyLength);
  const forwardedFor = [client['x-forwarded-for']].flat().filter((item) => item !== undefined && !UNSAFE_VALUE.test(item));
  // An address from an event is not checked by any HTTP parser: only an IP goes in.
  if (context.clientIp && /^[0-9A-Fa-f.:]{2,45}$/.test(context.clientIp)) forwardedFor.push(context.clientIp);
  if (forwardedFor.length > 0) headers['x-forwarded-for'] = forwardedFor.join(', ');
  headers['x-forwarded-proto'] = context.protocol;
  const relayHost = first(client['host']);
  if (relayHost !== undefined && /^[A-Za-z0-9.:[\]-]+$/.test(relayHost)) headers['x-forwarded-host'] = relayHost;
  headers['x-request-id'] = context.requestId;
  return headers;
}

/**
 * The upstream's response headers as the client should see them, from Node's `rawHeaders` (name, value,
 * name, value, ...), which keeps every repeated header separate where `headers` would merge some.
 */
export function clientResponseHeaders(rawHeaders: readonly string[], bodyLength: number, status: number): Record<string, string | string[]> {
  let dropped = HOP_BY_HOP;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== 'connection') continue;
    // Almost always `keep-alive` or `close`, which name nothing new to drop.
    const listed = [...connectionListed(rawHeaders[i + 1])].filter((name) => !HOP_BY_HOP.has(name) && name !== 'close');
    if (listed.length > 0) dropped = new Set([...dropped, ...listed]);
  }
  // Built without the dropped names rather than deleting them after: objects stay fast to write out.
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (dropped.has(name) || name === 'content-length') continue;
    const value = rawHeaders[i + 1]!;
    const existing = headers[name];
    if (existing === undefined) headers[name] = name === 'set-cookie' ? [value] : value;
    else headers[name] = [existing, value].flat();
  }
  // The body is complete and unchanged (still compressed if it was), so its length is known exactly.
  if (!(status === 204 || status === 304 || (status >= 100 && status < 200))) headers['content-length'] = String(bodyLength);
  return headers;
}

const NONE: ReadonlySet<string> = new Set();

function connectionListed(value: string | string[] | undefined): ReadonlySet<string> {
  if (value === undefined) return NONE;
  return new Set(
    [value]
      .flat()
      .flatMap((item) => (item ?? '').split(','))
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
  );
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
