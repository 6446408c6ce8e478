import type { PlatformLimits } from '../../core/relay';
import type { HeaderMap, RelayResponse } from '../../core/types';

// Pieces every event-style runtime shares: the request arrives as a JSON document (headers as a map,
// the query already parsed, the body a string that may be base64) and the answer goes back as one.

export type Json = Record<string, unknown>;

/** The event as an object: FC hands over a Buffer of JSON, some runtimes a string, others an object. */
export function parseEvent(raw: unknown): Json | undefined {
  let value = raw;
  if (raw instanceof Uint8Array || typeof raw === 'string') {
    try {
      value = JSON.parse(Buffer.from(raw).toString('utf8'));
    } catch {
      return undefined;
    }
  }
  return isObject(value) ? value : undefined;
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** A string field, or undefined. */
export function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Request body bytes: base64 when the platform says so, otherwise the string's UTF-8 bytes. */
export function eventBody(body: unknown, isBase64Encoded: unknown): Buffer {
  if (typeof body !== 'string' || body === '') return Buffer.alloc(0);
  return Buffer.from(body, isBase64Encoded === true || isBase64Encoded === 'true' ? 'base64' : 'utf8');
}

/**
 * Header map with lower-case names, minus the platform's own headers (its trace ids, signatures and
 * routing hints mean nothing to the backend and must not be forgeable through it).
 */
export function eventHeaders(headers: unknown, internalPrefixes: readonly string[]): HeaderMap {
  const result: HeaderMap = {};
  if (!isObject(headers)) return result;
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (internalPrefixes.some((prefix) => name.startsWith(prefix))) continue;
    const values = [value].flat().filter((item): item is string => typeof item === 'string');
    if (values.length === 0) continue;
    const existing = result[name];
    result[name] = existing === undefined && values.length === 1 ? values[0] : [existing ?? [], values].flat(2);
  }
  return result;
}

/**
 * A raw query string rebuilt from a parsed map (`{a: "1", b: ["2", "3"]}`), each name and value
 * percent-encoded once, so the core decodes exactly what the client meant.
 */
export function queryFromParams(params: unknown): string {
  if (!isObject(params)) return '';
  const pairs: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    for (const item of [value].flat()) {
      if (typeof item !== 'string') continue;
      pairs.push(`${encodeURIComponent(name)}=${encodeURIComponent(item)}`);
    }
  }
  return pairs.join('&');
}

/** Value of the first header of that name (names are lower-case). */
export function firstHeader(headers: HeaderMap, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

// Bodies of these types travel as plain strings when they are valid UTF-8; anything else is base64.
const TEXTUAL = /^(text\/|application\/(json|[\w.+-]*\+json|xml|[\w.+-]*\+xml|x-www-form-urlencoded|javascript|ecmascript)\b)/i;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

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
      return { body: strictUtf8.decode(body), isBase64Encoded: false };
    } catch {
      // Declared as text but not UTF-8 (GBK, Latin-1): only base64 keeps the bytes.
    }
  }
  return { body: body.toString('base64'), isBase64Encoded: true };
}

function isTextual(headers: Record<string, string | string[]>): boolean {
  const encoding = [headers['content-encoding']].flat()[0];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') return false;
  return TEXTUAL.test([headers['content-type']].flat()[0]?.trim() ?? '');
}

/** Bytes the platform must carry for this response: base64 grows a body by a third. */
export function encodedSize(headers: Record<string, string | string[]>, bodyLength: number): number {
  const body = isTextual(headers) ? bodyLength : Math.ceil(bodyLength / 3) * 4;
  let headerBytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    for (const item of [value].flat()) headerBytes += name.length + item.length + 4;
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
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name === 'content-length') continue;
    result[name] = [value].flat().join(', ');
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
