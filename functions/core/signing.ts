import { createHash, createHmac } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';

// RELAY_SIGNING_SECRET: a signature that lets the backend refuse anything that did not come through the
// relay. docs/backend-auth.md is the specification; the verifiers in examples/backend-auth build the same
// string from the request they receive.

/** Request headers that carry identity or meaning, so a backend would assume them signed. Order matters. */
export const SIGNED_HEADERS = ['authorization', 'content-type', 'cookie'] as const;

/**
 * Signed after the three, only when the relay sends it (a `post` standing in for PATCH or DELETE): it
 * changes what a framework does, so it is signed, and a verifier that predates it refuses it as before.
 */
export const METHOD_OVERRIDE = 'x-http-method-override';

/**
 * The signed string, lines joined by `\n` (no trailing newline):
 *
 *     v2
 *     METHOD
 *     PATH_AND_QUERY
 *     TIMESTAMP
 *     hex(SHA256(BODY))
 *     authorization:VALUE
 *     content-type:VALUE
 *     cookie:VALUE
 *     x-http-method-override:VALUE    (only when sent)
 *
 * VALUE is the header as sent upstream without surrounding spaces or tabs, empty when absent.
 */
export function canonicalString(method: string, pathAndQuery: string, timestamp: string, body: Buffer | undefined, headers: OutgoingHttpHeaders): string {
  const bodyHash = createHash('sha256').update(body ?? Buffer.alloc(0)).digest('hex');
  const lines = ['v2', method, pathAndQuery, timestamp, bodyHash];
  for (const name of signedHeaders(headers)) lines.push(`${name}:${headerValue(headers, name)}`);
  return lines.join('\n');
}

/** SIGNED_HEADERS, then X-HTTP-Method-Override when it is sent. */
function signedHeaders(headers: OutgoingHttpHeaders): readonly string[] {
  return headers[METHOD_OVERRIDE] === undefined ? SIGNED_HEADERS : [...SIGNED_HEADERS, METHOD_OVERRIDE];
}

/**
 * Headers proving the request came through the relay: `x-relay-timestamp` (Unix seconds),
 * `x-relay-signed-headers` and `x-relay-signature`, the hex HMAC-SHA256 of canonicalString.
 * `headers` must be the final map sent upstream, so the signature covers what the backend receives.
 */
export function signatureHeaders(
  secret: string,
  method: string,
  pathAndQuery: string,
  body: Buffer | undefined,
  headers: OutgoingHttpHeaders,
  now = Date.now(),
): Record<string, string> {
  const timestamp = String(Math.floor(now / 1000));
  // latin1: Node writes header strings as latin1, so these are the bytes on the wire, which is what a
  // PHP backend sees (a UTF-8 cookie value stays the same bytes on both sides).
  const signature = createHmac('sha256', secret).update(canonicalString(method, pathAndQuery, timestamp, body, headers), 'latin1').digest('hex');
  // Sent so that a verifier rebuilds the same lines, and one expecting another format refuses.
  return { 'x-relay-timestamp': timestamp, 'x-relay-signed-headers': signedHeaders(headers).join(';'), 'x-relay-signature': signature };
}

function headerValue(headers: OutgoingHttpHeaders, name: string): string {
  const value = headers[name];
  if (value === undefined) return '';
  // Single strings in practice; a repeated header is joined the way a backend's HTTP server joins it.
  const joined = Array.isArray(value) ? value.join(name === 'cookie' ? '; ' : ', ') : String(value);
  // HTTP parsers drop surrounding whitespace (PHP's built-in server only the leading part), so neither side signs it.
  return joined.replace(/^[ \t]+|[ \t]+$/g, '');
}
