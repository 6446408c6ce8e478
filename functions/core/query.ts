// `a=1&b=2` strings, as found in query strings and in form-urlencoded bodies. We never rebuild them
// from parsed values: the pairs we keep are passed on as the exact substrings the client sent.

export interface FormPair {
  /** Index of this pair among the `&`-separated pieces. */
  index: number;
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
 * latin1); undefined from it means the piece is not text, so its value counts as malformed.
 */
export function findPairs(raw: string, name: string, asText: (piece: string) => string | undefined = (piece) => piece): FormPair[] {
  if (raw === '') return [];
  const found: FormPair[] = [];
  raw.split('&').forEach((rawPiece, index) => {
    const piece = asText(rawPiece);
    if (piece === undefined) {
      // Cannot be told apart from `name` without decoding: a piece that starts like it is treated as it.
      if (rawPiece.startsWith(`${name}=`) || rawPiece === name) found.push({ index, name, value: undefined });
      return;
    }
    const eq = piece.indexOf('=');
    const rawName = eq === -1 ? piece : piece.slice(0, eq);
    if (decodeFormComponent(rawName) !== name) return;
    found.push({ index, name, value: decodeFormComponent(eq === -1 ? '' : piece.slice(eq + 1)) });
  });
  return found;
}

/** The same string without the given pairs (and their separators); every other byte is kept. */
export function withoutPairs(raw: string, pairs: readonly FormPair[]): string {
  if (pairs.length === 0) return raw;
  const drop = new Set(pairs.map((pair) => pair.index));
  return raw
    .split('&')
    .filter((_, index) => !drop.has(index))
    .join('&');
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
