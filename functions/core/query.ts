// `a=1&b=2` strings, as found in query strings and in form-urlencoded bodies. We never rebuild them
// from parsed values: the pairs we keep are passed on as the exact substrings the client sent.

export interface FormPair {
  /** Where this pair's text starts and ends in the raw string (its `&` separators excluded). */
  start: number;
  end: number;
  name: string;
  /** Decoded value; undefined when its percent-encoding is malformed. */
  value: string | undefined;
}

/** Decodes one form component (`+` is a space); undefined when the percent-encoding is malformed. */
export function decodeFormComponent(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * The pairs named `name`. `asText` turns each raw piece into text first (form bodies are bytes held as
 * latin1); undefined from it means the piece is not text, so its value counts as malformed. The string
 * is walked once, without splitting it: a body of millions of `&` costs no array of millions of pieces,
 * and only pieces that could be `name` are decoded.
 */
export function findPairs(raw: string, name: string, asText: (piece: string) => string | undefined = (piece) => piece): FormPair[] {
  const found: FormPair[] = [];
  for (let start = 0; start <= raw.length; ) {
    const amp = raw.indexOf('&', start);
    const end = amp === -1 ? raw.length : amp;
    if (end > start && couldBeNamed(raw, start, end, name)) {
      const piece = asText(raw.slice(start, end));
      if (piece === undefined) {
        // Not text, so not decodable: a piece that starts like `name` is taken as it.
        if (raw.startsWith(`${name}=`, start) || raw.slice(start, end) === name) found.push({ start, end, name, value: undefined });
      } else {
        const eq = piece.indexOf('=');
        if (decodeFormComponent(eq === -1 ? piece : piece.slice(0, eq)) === name) {
          found.push({ start, end, name, value: decodeFormComponent(eq === -1 ? '' : piece.slice(eq + 1)) });
        }
      }
    }
    if (amp === -1) break;
    start = amp + 1;
  }
  return found;
}

/** A piece can only be named `name` if its raw name is `name` or is encoded (holds `%`, `+` or non-ASCII). */
function couldBeNamed(raw: string, start: number, end: number, name: string): boolean {
  let nameEnd = start;
  while (nameEnd < end && raw.charCodeAt(nameEnd) !== 0x3d) nameEnd++; // '='
  if (nameEnd - start === name.length && raw.startsWith(name, start)) return true;
  for (let i = start; i < nameEnd; i++) {
    const code = raw.charCodeAt(i);
    if (code === 0x25 || code === 0x2b || code > 0x7f) return true;
  }
  return false;
}

/** The same string without the given pairs (and one `&` each); every other byte is kept. */
export function withoutPairs(raw: string, pairs: readonly FormPair[]): string {
  if (pairs.length === 0) return raw;
  let out = '';
  let from = 0;
  for (const pair of pairs) {
    out += raw.slice(from, pair.start);
    from = pair.end + 1; // past its `&`
  }
  out += raw.slice(from);
  // A removed last pair leaves the `&` before it.
  return from > raw.length && out.endsWith('&') ? out.slice(0, -1) : out;
}

/** Names whose values must never reach a log line. */
const SECRET_NAME = /token|key|secret|passw|pwd|auth|sign|session|ticket|credential|code/i;

export function redactQuery(raw: string): string {
  if (raw === '') return raw;
  return raw
    .split('&')
    .map((piece) => {
      const eq = piece.indexOf('=');
      if (eq === -1) return piece;
      const name = decodeFormComponent(piece.slice(0, eq)) ?? piece.slice(0, eq);
      return SECRET_NAME.test(name) ? `${piece.slice(0, eq)}=***` : piece;
    })
    .join('&');
}
