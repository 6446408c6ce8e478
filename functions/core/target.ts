import type { Upstream } from './config';
import { RelayError } from './errors';
import { decodeStrictUtf8 } from './utf8';

// Turning the client's API path into the upstream URL is the one place where a mistake makes the relay
// an open proxy, so every check here is deliberately redundant: the path is checked in every form a
// server down the line might decode it to, and the URL is checked again after it has been built.

export const MAX_PATH_BYTES = 2048;
/** A path still changing after this many decodings is hostile, not a real API path. */
const MAX_DECODE_LAYERS = 4;

export interface Target {
  url: URL;
  /** `url.pathname` and `url.search`, as checked: read once here rather than through the URL's getters. */
  pathname: string;
  search: string;
  /**
   * The API path's segments, each decoded exactly once: what the upstream gets when it decodes the
   * forwarded path, so what the allow list must be matched against.
   */
  segments: string[];
}

/**
 * Builds the upstream URL for an API path.
 * @param apiPath the path as the client meant it, where `%XX` triplets are escapes (`api/users`,
 *   `api/caf%C3%A9`); a leading `/` is optional.
 * @param query raw query string to forward, without `?`.
 */
export function resolveTarget(upstream: Upstream, apiPath: string, query: string): Target {
  if (apiPath === '' || apiPath === '/') throw badPath('the API path is empty');
  if (Buffer.byteLength(apiPath) > MAX_PATH_BYTES) throw badPath(`the API path is longer than ${MAX_PATH_BYTES} bytes`);

  // Checked exactly as it will be appended to the base path, so `%2F...` is seen as the `//` it becomes.
  const relative = apiPath.charCodeAt(0) === 0x2f ? apiPath : `/${apiPath}`;
  // Most API paths are plain ASCII segments with nothing to decode: the one form to check is the path itself.
  if (PLAIN_PATH.test(relative) && !SCHEME.test(relative)) return checkedTarget(upstream, relative, relative, query);
  checkForm(relative);
  if (/%(?![0-9A-Fa-f]{2})/.test(relative)) throw badPath('the API path contains a "%" that does not start a %XX escape');
  if (LONE_SURROGATE.test(relative)) throw badPath('the path or query is not valid Unicode');
  // The one canonical form is `relative` decoded once: the allow list sees it and the forwarded path is
  // it encoded once, so the two cannot disagree. Further decodings must keep its segments.
  const canonical = decodeEscapes(relative);
  const slashes = countOf('/', relative);
  // `;` starts path parameters on some servers (Tomcat drops `;...` from a segment), so an encoded one
  // would turn data into a delimiter once decoded, like an encoded "/".
  const semicolons = countOf(';', relative);
  for (const form of decodedForms(canonical)) {
    if (form === relative) continue; // checked above
    if (countOf('/', form) !== slashes) throw badPath('the API path contains an encoded "/" inside a segment');
    if (countOf(';', form) !== semicolons) throw badPath('the API path contains an encoded ";" inside a segment');
    checkForm(form);
  }

  return checkedTarget(upstream, canonical, canonical.replace(NOT_PATH_SAFE, encodeURIComponent), query);
}

/**
 * Slash-separated segments of unreserved characters and sub-delimiters (RFC 3986) without `%`, `;` or
 * `@`, none empty, `.` or `..`: nothing in it decodes, normalises or needs encoding.
 */
const PLAIN_PATH = /^(?:\/(?!\.\.?(?:\/|$))[A-Za-z0-9._~!$&'()*+,=:-]+)+$/;

/** The URL for a checked canonical path, itself checked once more as a URL parser reads it. */
function checkedTarget(upstream: Upstream, canonical: string, encodedPath: string, query: string): Target {
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
  return {
    url,
    pathname,
    search,
    // Only an allow list needs them.
    get segments() {
      return canonical.slice(1).split('/');
    },
  };
}

function badPath(message: string): RelayError {
  return new RelayError('BAD_PATH', message);
}

/** The path itself and each further percent-decoding of it, until it stops changing. */
function decodedForms(path: string): string[] {
  const forms = [path];
  let current = path;
  // `path` is already one decoding deep.
  for (let layer = 1; layer < MAX_DECODE_LAYERS; layer++) {
    const next = decodeEscapes(current);
    if (next === current) return forms;
    forms.push(next);
    current = next;
  }
  throw badPath('the API path is encoded too many times');
}


/** Decodes every `%XX` run as strict UTF-8: no truncated or overlong sequences, no surrogates. */
function decodeEscapes(text: string): string {
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeStrictUtf8(Buffer.from(run.replace(/%/g, ''), 'hex'));
    } catch {
      throw badPath('the API path has %XX escapes that are not valid UTF-8');
    }
  });
}

function countOf(char: string, text: string): number {
  return text.split(char).length - 1;
}

const SCHEME = /^\/[A-Za-z][A-Za-z0-9+.-]*:/;
const NON_ASCII = /[^\x00-\x7f]/;
const LONE_SURROGATE = /[\ud800-\udfff]/u;

// Look-alikes of "/", "\" and "." that NFKC leaves alone (those it maps, such as full-width ／＼．,
// ½ or ⒈, are caught by comparing counts): division, fraction and big solidus, set minus, reverse
// solidus operator, box-drawing and mathematical diagonals, Philippine single punctuation; ideographic
// full stops, which URL host parsing reads as dots; Syriac, Vai, Kharoshthi and musical dots. Symbols
// and punctuation only: letters and digits that resemble them (katakana ノ, CJK 丿, Arabic-Indic zero)
// are ordinary text in API paths.
const LOOKALIKE = /[\u1735\u2044\u2215\u2571\u27cb\u29f8\u2216\u2572\u27cd\u29f5\u29f9\u3002\u0701\u0702\ua60e\u{10a50}\u{1d16d}]/u;
const SLASH_OR_DOT = /[/\\.]/g;

function checkForm(form: string): void {
  let problem = findProblem(form);
  // NFKC leaves ASCII unchanged, so only other text needs its normalized form checked too.
  if (!problem && NON_ASCII.test(form)) {
    const normalized = form.normalize('NFKC');
    // NFKC never removes an ASCII "/", "\" or ".", so any extra one afterwards came from another character.
    const lookalike =
      LOOKALIKE.test(form) || LOOKALIKE.test(normalized) || normalized.match(SLASH_OR_DOT)?.length !== form.match(SLASH_OR_DOT)?.length;
    problem = lookalike ? 'the API path contains a look-alike of "/", "\\" or "." (full-width or similar)' : findProblem(normalized);
  }
  if (problem) throw badPath(problem);
}

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

// RFC 3986 pchar except "@" (refused above), plus "/"; anything else is percent-encoded once as UTF-8.
// No segment of the canonical form contains a "/", so encoding it whole encodes each segment.
const NOT_PATH_SAFE = /[^A-Za-z0-9\-._~!$&'()*+,;=:/]/gu;

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
