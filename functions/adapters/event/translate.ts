import { RelayError } from '../../core/errors';
import type { PlatformLimits } from '../../core/relay';
import { BODY_TOO_LARGE, type HeaderMap, type RelayResponse } from '../../core/types';
import { decodeStrictUtf8 } from '../../core/utf8';
import { isPlatformHeader, type PlatformHeaders } from '../shared/platform-headers';

// Pieces every event-style runtime shares: the request arrives as a JSON document (headers as a map,
// the query already parsed, the body a string that may be base64) and the answer goes back as one.

export type Json = Record<string, unknown>;


/**
 * The event as an object: FC hands over a Buffer of JSON, some runtimes a string, others an object.
 * A Buffer that is not UTF-8 is refused: a lenient decode would turn its bytes into U+FFFD and relay them.
 */
export function parseEvent(raw: unknown): Json | undefined {
  let value = raw;
  if (raw instanceof Uint8Array || typeof raw === 'string') {
    try {
      value = JSON.parse(typeof raw === 'string' ? raw : decodeStrictUtf8(raw, true));
    } catch {
      return undefined;
    }
  }
  return isObject(value) ? value : undefined;
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** What an event must not contain: refused as a whole, since a platform never sends it. */
export function badEvent(message: string): RelayError {
  return new RelayError('BAD_EVENT', message);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text that has an exact UTF-8 form: a lone surrogate would silently become U+FFFD on the way out. */
function isWellFormed(value: string): boolean {
  const native = (value as { isWellFormed?: () => boolean }).isWellFormed;
  return native ? native.call(value) : !LONE_SURROGATE.test(value);
}

/** A required string field no longer than `maxLength`, with an exact UTF-8 form. */
export function requiredText(value: unknown, field: string, maxLength = 16 * 1024): string {
  if (typeof value !== 'string') throw badEvent(`${field} must be a string`);
  return checkedText(value, field, maxLength);
}

/** An optional string field: absent (undefined or null) is fine, another type is not. */
export function optionalText(value: unknown, field: string, maxLength = 16 * 1024): string | undefined {
  return value === undefined || value === null ? undefined : requiredText(value, field, maxLength);
}

function checkedText(value: string, field: string, maxLength: number): string {
  if (value.length > maxLength) throw badEvent(`${field} is longer than ${maxLength} characters`);
  if (!isWellFormed(value)) throw badEvent(`${field} is not valid Unicode (lone surrogate)`);
  return value;
}

/** The HTTP method: a short token (anything else cannot be a method any platform passes). */
export function requiredMethod(value: unknown, field: string): string {
  const method = requiredText(value, field, 16);
  if (!/^[A-Za-z]+$/.test(method)) throw badEvent(`${field} is not an HTTP method`);
  return method.toUpperCase();
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Request body bytes: base64 when the platform says so, otherwise the string's UTF-8 bytes. A body
 * already past `maxBytes` in its string form is not decoded at all.
 */
export function eventBody(body: unknown, isBase64Encoded: unknown, maxBytes: number): Buffer | typeof BODY_TOO_LARGE {
  if (body === undefined || body === null || body === '') return Buffer.alloc(0);
  if (typeof body !== 'string') throw badEvent('body must be a string');
  if (isBase64Encoded !== undefined && isBase64Encoded !== null && typeof isBase64Encoded !== 'boolean' && isBase64Encoded !== 'true' && isBase64Encoded !== 'false') {
    throw badEvent('isBase64Encoded must be true or false');
  }
  const base64 = isBase64Encoded === true || isBase64Encoded === 'true';
  // Base64 takes 4 characters for 3 bytes; UTF-8 at least one byte per character.
  if ((base64 ? Math.floor(body.length / 4) * 3 : body.length) > maxBytes) return BODY_TOO_LARGE;
  if (base64) {
    if (body.length % 4 !== 0 || !BASE64.test(body)) throw badEvent('body is marked isBase64Encoded but is not base64');
    return Buffer.from(body, 'base64');
  }
  if (!isWellFormed(body)) throw badEvent('body is not valid Unicode (lone surrogate)');
  return Buffer.from(body, 'utf8');
}

/**
 * Header map with lower-case names, minus the platform's own headers. No prototype, so `__proto__` or
 * `constructor` is a header like any other. Values must be strings (or lists of them, multi-value maps).
 */
export function eventHeaders(headers: unknown, platform: PlatformHeaders): HeaderMap {
  const result: HeaderMap = Object.create(null);
  if (headers === undefined || headers === null) return result;
  if (!isObject(headers)) throw badEvent('headers must be an object');
  for (const rawName of Object.keys(headers)) {
    const value = headers[rawName];
    const name = rawName.toLowerCase();
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) {
      if (typeof item !== 'string') throw badEvent(`the header ${JSON.stringify(rawName.slice(0, 64))} must have a string value`);
      checkedText(item, `the header ${rawName.slice(0, 64)}`, 64 * 1024);
    }
    if (values.length === 0 || isPlatformHeader(platform, name)) continue;
    const existing = result[name];
    result[name] = existing === undefined && values.length === 1 ? (values[0] as string) : [existing ?? [], values as string[]].flat();
  }
  return result;
}

/**
 * A raw query string rebuilt from a parsed map (`{a: "1", b: ["2", "3"]}`), each name and value
 * percent-encoded once, so the core decodes exactly what the client meant.
 */
export function queryFromParams(params: unknown): string {
  if (params === undefined || params === null) return '';
  if (!isObject(params)) throw badEvent('the query parameters must be an object');
  const pairs: string[] = [];
  for (const name of Object.keys(params)) {
    const value = params[name];
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item !== 'string') throw badEvent(`the query parameter ${JSON.stringify(name.slice(0, 64))} must have a string value`);
      pairs.push(`${encodeURIComponent(checkedText(name, 'a query parameter name', 16 * 1024))}=${encodeURIComponent(checkedText(item, 'a query parameter', 64 * 1024))}`);
    }
  }
  return pairs.join('&');
}

/** Value of the first header of that name (names are lower-case). */
function firstHeader(headers: HeaderMap, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

// Bodies of these types travel as plain strings when they are valid UTF-8; anything else is base64.
const TEXTUAL = /^(text\/|application\/(json|[\w.+-]*\+json|xml|[\w.+-]*\+xml|x-www-form-urlencoded|javascript|ecmascript)\b)/i;

export interface EncodedBody {
  body: string;
  isBase64Encoded: boolean;
}

/**
 * The response body as an event result carries it. Text stays readable; binary, compressed or
 * non-UTF-8 bodies go as base64, which every platform decodes back to the exact bytes.
 */
export function encodeBody(headers: Record<string, string | string[]>, body: Buffer): EncodedBody {
  if (isTextual(headers)) {
    try {
      return { body: decodeStrictUtf8(body), isBase64Encoded: false };
    } catch {
      // Declared as text but not UTF-8 (GBK, Latin-1): only base64 keeps the bytes.
    }
  }
  return { body: body.toString('base64'), isBase64Encoded: true };
}

function isTextual(headers: Record<string, string | string[]>): boolean {
  const encoding = firstOf(headers['content-encoding']);
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') return false;
  return TEXTUAL.test(firstOf(headers['content-type'])?.trim() ?? '');
}

function firstOf(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : value?.[0];
}

/** Bytes the platform must carry for this response: base64 grows a body by a third. */
export function encodedSize(headers: Record<string, string | string[]>, bodyLength: number): number {
  const body = isTextual(headers) ? bodyLength : Math.ceil(bodyLength / 3) * 4;
  let headerBytes = 0;
  for (const name in headers) {
    const value = headers[name]!;
    if (typeof value === 'string') headerBytes += name.length + value.length + 4;
    else for (const item of value) headerBytes += name.length + item.length + 4;
  }
  return body + headerBytes;
}

export function eventLimits(platform: string, maxRequestBytes: number, maxResponseBytes: number): PlatformLimits {
  return { platform, maxRequestBytes, maxResponseBytes, responseSize: encodedSize };
}

/**
 * Headers for a platform that takes one string per name. Repeated headers are joined with ", " as
 * HTTP allows; for Set-Cookie that is the same merged form WeChat itself produces, which the client
 * SDK splits again. The platform computes Content-Length for the body it sends.
 */
export function singleValueHeaders(headers: Record<string, string | string[]>): Record<string, string> {
  const result: Record<string, string> = Object.create(null);
  for (const name in headers) {
    if (name === 'content-length') continue;
    const value = headers[name]!;
    result[name] = typeof value === 'string' ? value : value.join(', ');
  }
  return result;
}

/** The event result most platforms share: `{statusCode, headers, body, isBase64Encoded}`. */
export function simpleResult(response: RelayResponse) {
  return { statusCode: response.status, headers: singleValueHeaders(response.headers), ...encodeBody(response.headers, response.body) };
}

/** The scheme the client used; clouds terminate TLS in front of the function and say so, if at all, here. */
export function clientScheme(headers: HeaderMap): 'http' | 'https' {
  return firstHeader(headers, 'x-forwarded-proto')?.trim().toLowerCase() === 'http' ? 'http' : 'https';
}
