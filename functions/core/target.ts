import type { Upstream } from './config';
import { RelayError } from './errors';

// Turning the client's API path into the upstream URL is the one place where a mistake makes the relay
// an open proxy, so every check here is deliberately redundant: the path is checked in every form a
// server down the line might decode it to, and the URL is checked again after it has been built.

export const MAX_PATH_BYTES = 2048;
/** A path still changing after this many decodings is hostile, not a real API path. */
const MAX_DECODE_LAYERS = 4;

/**
 * Builds the upstream URL for an API path.
 * @param apiPath the path as the client meant it, where `%XX` triplets are escapes (`api/users`,
 *   `api/caf%C3%A9`); a leading `/` is optional.
 * @param query raw query string to forward, without `?`.
 */
export function resolveTarget(upstream: Upstream, apiPath: string, query: string): URL {
  if (apiPath === '' || apiPath === '/') throw badPath('the API path is empty');
  if (Buffer.byteLength(apiPath) > MAX_PATH_BYTES) throw badPath(`the API path is longer than ${MAX_PATH_BYTES} bytes`);

  // Checked exactly as it will be appended to the base path, so `%2F...` is seen as the `//` it becomes.
  const relative = `/${apiPath.replace(/^\//, '')}`;
  for (const form of decodedForms(relative)) {
    // NFKC leaves ASCII unchanged, so only other text needs its normalized form checked too.
    const problem = findProblem(form) ?? (NON_ASCII.test(form) ? findProblem(form.normalize('NFKC')) : undefined);
    if (problem) throw badPath(problem);
  }

  const encodedPath = encodePath(relative);
  if (encodedPath.length > MAX_PATH_BYTES) throw badPath(`the API path is longer than ${MAX_PATH_BYTES} bytes`);
  const pathname = `${upstream.basePath}${encodedPath}`;
  const search = query === '' ? '' : `?${encodeQuery(query)}`;

  // Check what a URL parser makes of the result, not only what went into it.
  const url = new URL(`${upstream.origin}${pathname}${search}`);
  if (
    url.origin !== upstream.origin ||
    url.pathname !== pathname ||
    !url.pathname.startsWith(`${upstream.basePath}/`) ||
    url.search !== search ||
    url.hash !== '' ||
    url.username !== '' ||
    url.password !== ''
  ) {
    throw badPath('the API path does not stay under the configured upstream');
  }
  return url;
}

function badPath(message: string): RelayError {
  return new RelayError('BAD_PATH', message);
}

/** The path itself and each successive percent-decoding of it, until it stops changing. */
function decodedForms(path: string): string[] {
  const forms = [path];
  let current = path;
  for (let layer = 0; layer < MAX_DECODE_LAYERS; layer++) {
    const next = decodeEscapes(current);
    if (next === current) return forms;
    forms.push(next);
    current = next;
  }
  throw badPath('the API path is encoded too many times');
}

/** Decodes every valid `%XX` run as UTF-8 and leaves anything else as it is (never throws). */
function decodeEscapes(text: string): string {
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8'));
}

const SCHEME = /^\/[A-Za-z][A-Za-z0-9+.-]*:/;
const NON_ASCII = /[^\x00-\x7f]/;

function findProblem(form: string): string | undefined {
  if (/[\x00-\x1f\x7f]/.test(form)) return 'the API path contains a control character (CR, LF, NUL, ...)';
  if (form.includes('\\')) return 'the API path contains a backslash';
  if (form.includes('?') || form.includes('#')) return 'the API path contains "?" or "#"; put query parameters outside it';
  if (form.includes('@')) return 'the API path contains "@"';
  if (form.includes('//')) return 'the API path contains "//" (an empty segment or another host)';
  if (SCHEME.test(form)) return 'the API path starts with a scheme; only paths on the configured upstream are allowed';
  // `..;` counts too: some servers (Tomcat, for one) drop path parameters before resolving dots.
  if (form.split('/').some((segment) => /^\.\.?(?:;.*)?$/.test(segment))) {
    return 'the API path contains a "." or ".." segment';
  }
  return undefined;
}

// RFC 3986 pchar plus "/"; anything else is percent-encoded once as UTF-8.
const PATH_SAFE = /^[A-Za-z0-9\-._~!$&'()*+,;=:/]$/;

// A path made only of safe characters (the common case) needs no encoding at all.
const ALL_PATH_SAFE = /^[A-Za-z0-9\-._~!$&'()*+,;=:/]*$/;

function encodePath(path: string): string {
  if (ALL_PATH_SAFE.test(path)) return path;
  let out = '';
  for (let i = 0; i < path.length; ) {
    if (path[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(path.slice(i + 1, i + 3))) {
      out += path.slice(i, i + 3);
      i += 3;
      continue;
    }
    const char = String.fromCodePoint(path.codePointAt(i) as number);
    out += PATH_SAFE.test(char) ? char : encodeChar(char);
    i += char.length;
  }
  return out;
}

function encodeChar(char: string): string {
  const code = char.charCodeAt(0);
  if (code < 0x80) return `%${code.toString(16).toUpperCase().padStart(2, '0')}`;
  try {
    return encodeURIComponent(char);
  } catch {
    throw badPath('the path or query is not valid Unicode');
  }
}

// Exactly the WHATWG query percent-encode set (C0 controls, space, " # < > ' and non-ASCII), so the
// URL parser leaves the result alone and everything the client encoded stays as it was.
const QUERY_UNSAFE = /[\x00-\x20"#<>'\x7f]|[^\x00-\x7f]/gu;

export function encodeQuery(query: string): string {
  return query.replace(QUERY_UNSAFE, encodeChar);
}
