import type { OutgoingHttpHeaders } from 'node:http';
import { RelayError } from './errors';
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
const REPLACED_ON_REQUEST = new Set(['host', 'content-length', 'expect']);

/**
 * Headers that claim who the caller is or which URL it asked for. Proxies and frameworks trust them, and
 * any client can send them, so they never pass: the relay sets X-Forwarded-For and X-Real-IP itself from
 * the address the platform vouches for. `x-scf-remote-addr` is SCF's own source-address header, which a
 * client could send to a runtime that does not set it.
 */
const SPOOFABLE_IDENTITY = new Set([
  'x-forwarded-for',
  'x-real-ip',
  'forwarded',
  'true-client-ip',
  'x-client-ip',
  'x-cluster-client-ip',
  'cf-connecting-ip',
  'fastly-client-ip',
  'x-original-forwarded-for',
  'x-forwarded',
  'forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-server',
  'x-forwarded-prefix',
  'x-original-url',
  'x-rewrite-url',
  'x-original-host',
  'x-originating-ip',
  'x-remote-addr',
  'x-remote-ip',
  'client-ip',
  'x-scf-remote-addr',
  // They claim another method than the one the relay forwards, and frameworks obey them (Laravel does).
  // X-HTTP-Method-Override passes on `post` alone, as PATCH or DELETE (ForwardContext.methodOverride).
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
]);

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Field values are Latin-1 text without control characters (RFC 9110 5.5); tab is allowed.
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const IP_ADDRESS = /^[0-9A-Fa-f.:]{2,45}$/;

export interface ForwardContext {
  upstreamHost: string;
  requestId: string;
  /** The caller's address as the platform vouches for it; anything but an IP is ignored. */
  clientIp: string | undefined;
  protocol: 'http' | 'https';
  /** RELAY_PUBLIC_HOST, sent as X-Forwarded-Host. */
  publicHost: string | undefined;
  /** Length of the body sent upstream; undefined when no body is sent. */
  bodyLength: number | undefined;
  /** RelayRequest.headersParsed: names and values are known to be valid already. */
  headersParsed?: boolean;
  /**
   * `post` only: X-HTTP-Method-Override passes when it says PATCH or DELETE, the methods wx.request
   * lacks or a POST stands in for; any other value is refused rather than silently sent as a POST.
   */
  methodOverride?: boolean;
}

const OVERRIDABLE = /^(PATCH|DELETE)$/i;

/** A client-supplied x-request-id if it is sane, otherwise a new one. */
export function pickRequestId(headers: HeaderMap, makeId: () => string): string {
  const given = first(headers['x-request-id']);
  return given !== undefined && REQUEST_ID.test(given) ? given : makeId();
}

/**
 * The headers sent upstream. A name or value no HTTP parser would accept (possible only through an
 * event, whose headers no parser has checked) is refused with BAD_HEADER rather than passed or dropped.
 */
export function upstreamRequestHeaders(client: HeaderMap, context: ForwardContext): OutgoingHttpHeaders {
  const dropped = connectionListed(client['connection']);
  // No prototype: a header named `__proto__` or `constructor` is just a header.
  const headers: OutgoingHttpHeaders = Object.create(null);
  for (const name of Object.keys(client)) {
    const value = client[name];
    if (value === undefined) continue;
    if (!context.headersParsed) checkHeader(name, value);
    if (HOP_BY_HOP.has(name) || REPLACED_ON_REQUEST.has(name) || dropped.has(name)) continue;
    // CGI-style backends (PHP, WSGI) read `X_Forwarded_For` and `X-Forwarded-For` as one name, so the
    // relay's own names are compared with `_` read as `-` (`X_Request_Id` too: the relay sets that one).
    // x-relay-* carry its signature: never a client's.
    const alias = name.includes('_') ? name.replace(/_/g, '-') : name;
    if (name === 'x-http-method-override' && context.methodOverride) {
      // Only HTTP's own whitespace around it (RFC 9110 5.5), as signing strips.
      const method = typeof value === 'string' ? value.replace(/^[ \t]+|[ \t]+$/g, '') : '';
      if (!OVERRIDABLE.test(method)) throw new RelayError('BAD_HEADER', 'x-http-method-override must be PATCH or DELETE');
      headers[name] = method.toUpperCase();
      continue;
    }
    if (SPOOFABLE_IDENTITY.has(alias) || alias.startsWith('x-relay-') || (alias !== name && (REPLACED_ON_REQUEST.has(alias) || alias === 'x-request-id'))) continue;
    // One Cookie line, as RFC 6265 5.4 wants and as it is signed.
    headers[name] = name === 'cookie' && typeof value !== 'string' ? value.join('; ') : value;
  }
  headers['host'] = context.upstreamHost;
  if (context.bodyLength !== undefined) headers['content-length'] = String(context.bodyLength);
  if (context.clientIp !== undefined && IP_ADDRESS.test(context.clientIp)) {
    headers['x-forwarded-for'] = context.clientIp;
    headers['x-real-ip'] = context.clientIp;
  }
  headers['x-forwarded-proto'] = context.protocol;
  if (context.publicHost !== undefined) headers['x-forwarded-host'] = context.publicHost;
  headers['x-request-id'] = context.requestId;
  return headers;
}

/**
 * The upstream's response headers as the client should see them, from Node's `rawHeaders` (name, value,
 * name, value, ...), which keeps every repeated header separate where `headers` would merge some.
 */
export function clientResponseHeaders(rawHeaders: readonly string[], bodyLength: number | undefined, status: number, basePath = ''): Record<string, string | string[]> {
  let dropped = HOP_BY_HOP;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== 'connection') continue;
    // Almost always `keep-alive` or `close`, which name nothing new to drop.
    const value = rawHeaders[i + 1]!.toLowerCase();
    if (value === 'keep-alive' || value === 'close') continue;
    const listed = [...connectionListed(rawHeaders[i + 1])].filter((name) => !HOP_BY_HOP.has(name) && name !== 'close');
    if (listed.length > 0) dropped = new Set([...dropped, ...listed]);
  }
  // Built without the dropped names rather than deleting them after; no prototype, so `__proto__` or
  // `constructor` from the upstream is an ordinary header.
  const headers: Record<string, string | string[]> = Object.create(null);
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (dropped.has(name) || name === 'content-length') continue;
    // The relay's own headers (x-relay-error above all) mean the relay said it: a backend may not forge them.
    if (name.startsWith('x-relay-') || name.startsWith('x_relay_')) continue;
    const value = name === 'set-cookie' && basePath !== '' ? cookieOnRelayPaths(rawHeaders[i + 1]!, basePath) : rawHeaders[i + 1]!;
    const existing = headers[name];
    if (existing === undefined) headers[name] = name === 'set-cookie' ? [value] : value;
    else headers[name] = [existing, value].flat();
  }
  // The body is unchanged (still compressed if it was), so its length is known exactly; a streamed body
  // of unstated length goes chunked.
  if (bodyLength !== undefined && !(status === 204 || status === 304 || (status >= 100 && status < 200))) headers['content-length'] = String(bodyLength);
  return headers;
}

/** BAD_HEADER for what no HTTP parser would have let through. */
function checkHeader(name: string, value: string | string[]): void {
  if (!TOKEN.test(name)) throw new RelayError('BAD_HEADER', `the header name ${JSON.stringify(name.slice(0, 64))} is not valid`);
  if (typeof value === 'string' ? INVALID_VALUE.test(value) : value.some((item) => INVALID_VALUE.test(item))) {
    throw new RelayError('BAD_HEADER', `the value of header ${name} is not valid Latin-1 text (or holds control characters)`);
  }
}

const COOKIE_PATH = /(;\s*path\s*=\s*)([^;]*)/gi;

/**
 * A cookie's Path in the paths clients call: the upstream's base path (UPSTREAM_URL's `/v1`) taken off,
 * as nginx's proxy_cookie_path does, so `Path=/v1/api` applies to the API path `api/...`. Paths outside
 * the base path are left as they are.
 */
function cookieOnRelayPaths(cookie: string, basePath: string): string {
  return cookie.replace(COOKIE_PATH, (whole, attribute: string, path: string) => {
    const trimmed = path.trim();
    if (trimmed === basePath || trimmed === `${basePath}/`) return `${attribute}/`;
    return trimmed.startsWith(`${basePath}/`) ? attribute + trimmed.slice(basePath.length) : whole;
  });
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
