import { RelayError } from './errors';
import { findPairs, withoutPairs } from './query';
import { decodeStrictUtf8 } from './utf8';

// Taking the API path out of a POST/PUT body without touching anything else in it. The body is never
// parsed and re-serialised: big integers (12345678901234567890), `1.0`, key order and spacing all
// survive, because we cut the one member out of the original bytes.

export interface BodyField {
  value: string;
  /** The body without that field. */
  body: Buffer;
}

/** Bytes held as latin1 text, read as the UTF-8 a mini program sends; undefined when they are not UTF-8. */
function utf8FromLatin1(piece: string): string | undefined {
  if (!/[^\x00-\x7f]/.test(piece)) return piece;
  try {
    return decodeStrictUtf8(Buffer.from(piece, 'latin1'));
  } catch {
    return undefined;
  }
}

export function takeFormField(body: Buffer, name: string): BodyField | undefined {
  // latin1 maps bytes to characters one to one, so every byte we keep goes back unchanged; the field
  // itself is read as UTF-8 (`method=api/商品` sent unencoded).
  const text = body.toString('latin1');
  const pairs = findPairs(text, name, utf8FromLatin1);
  if (pairs.length === 0) return undefined;
  const value = singleValue(pairs.map((pair) => pair.value), name);
  return { value, body: Buffer.from(withoutPairs(text, pairs), 'latin1') };
}

// A UTF-8 byte order mark, which some Windows tools put before JSON; JSON.parse refuses it.
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export function takeJsonField(body: Buffer, name: string): BodyField | undefined {
  const start = body.subarray(0, 3).equals(BOM) ? 3 : 0;
  // One linear pass each, no recursion and no parse of the whole body: JSON.parse of deeply nested
  // megabytes would hold the event loop while it builds a structure nobody reads.
  if (body[skipSpace(body, start)] !== OPEN_OBJECT) {
    throw new RelayError('BAD_BODY', `the JSON body must be an object carrying "${name}", or "${name}" must be in the query`);
  }
  if (!isJsonValue(body, start)) throw new RelayError('BAD_BODY', `the body is not valid JSON, and no "${name}" was given in the query`);
  const found = membersNamed(body, start, name);
  if (found.matches.length === 0) return undefined;
  const value = singleValue(
    found.matches.map((member) => JSON.parse(strictText(body.subarray(member.valueStart, member.end), name)) as unknown),
    name,
  );
  const [cutFrom, cutTo] = found.span;
  return { value, body: Buffer.concat([body.subarray(0, cutFrom), body.subarray(cutTo)]) };
}

/** The field's bytes as UTF-8, refused if they are not: a lenient decode would forward U+FFFD instead. */
function strictText(bytes: Buffer, name: string): string {
  try {
    return decodeStrictUtf8(bytes);
  } catch {
    throw new RelayError('BAD_PATH', `"${name}" is not valid UTF-8`);
  }
}

function singleValue(values: unknown[], name: string): string {
  if (values.length > 1) throw new RelayError('BAD_PATH', `"${name}" is given more than once`);
  const value = values[0];
  if (typeof value !== 'string') throw new RelayError('BAD_PATH', `"${name}" must be a string`);
  return value;
}

// Bytes: every structural character of JSON is ASCII.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

function skipSpace(json: Buffer, i: number): number {
  while (i < json.length && (json[i] === 0x20 || json[i] === 0x0a || json[i] === 0x0d || json[i] === 0x09)) i++;
  return i;
}

/** Past the string starting at `i` (its opening quote), or -1 when it is not a valid JSON string. */
function scanString(json: Buffer, i: number): number {
  for (let j = i + 1; j < json.length; j++) {
    const byte = json[j]!;
    if (byte === QUOTE) return j + 1;
    if (byte < 0x20) return -1;
    if (byte !== BACKSLASH) continue;
    const escaped = json[++j];
    if (escaped === 0x75) {
      for (let k = 1; k <= 4; k++) if (!isHex(json[j + k])) return -1;
      j += 4;
    } else if (escaped === undefined || !ESCAPABLE.has(escaped)) return -1;
  }
  return -1;
}

const ESCAPABLE = new Set([...'"\\/bfnrt'].map((char) => char.charCodeAt(0)));
const isHex = (byte: number | undefined) => byte !== undefined && ((byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x66));
const isDigit = (byte: number | undefined) => byte !== undefined && byte >= 0x30 && byte <= 0x39;
// By first byte: `t`, `f`, `n`.
const LITERALS = new Map(['true', 'false', 'null'].map((word) => [word.charCodeAt(0), Buffer.from(word)]));

/** Past the number or literal at `i`, or -1. */
function scanScalar(json: Buffer, i: number): number {
  const literal = LITERALS.get(json[i]!);
  if (literal) return i + literal.length <= json.length && json.compare(literal, 0, literal.length, i, i + literal.length) === 0 ? i + literal.length : -1;
  let j = i;
  if (json[j] === 0x2d) j++;
  if (json[j] === 0x30) j++;
  else if (isDigit(json[j])) while (isDigit(json[j])) j++;
  else return -1;
  if (json[j] === 0x2e) {
    if (!isDigit(json[++j])) return -1;
    while (isDigit(json[j])) j++;
  }
  if (json[j] === 0x65 || json[j] === 0x45) {
    j++;
    if (json[j] === 0x2b || json[j] === 0x2d) j++;
    if (!isDigit(json[j])) return -1;
    while (isDigit(json[j])) j++;
  }
  return j;
}

const enum Expect {
  Value,
  FirstValue, // just after `[`: a value or `]`
  Key,
  FirstKey, // just after `{`: a key or `}`
  AfterValue,
}

/** Whether the bytes from `from` are exactly one JSON value (RFC 8259), checked without recursion. */
export function isJsonValue(json: Buffer, from: number): boolean {
  // One byte per open container: 1 object, 2 array.
  const open = new Uint8Array(json.length);
  let depth = 0;
  let expect = Expect.Value;
  let i = from;
  for (;;) {
    i = skipSpace(json, i);
    if (i >= json.length) return false;
    const byte = json[i]!;
    if (expect === Expect.AfterValue) {
      const container = open[depth - 1];
      if (byte === COMMA) {
        expect = container === 1 ? Expect.Key : Expect.Value;
        i++;
        continue;
      }
      if ((byte === CLOSE_OBJECT && container === 1) || (byte === CLOSE_ARRAY && container === 2)) {
        depth--;
        i++;
        if (depth === 0) return skipSpace(json, i) === json.length;
        continue;
      }
      return false;
    }
    if ((expect === Expect.FirstKey && byte === CLOSE_OBJECT) || (expect === Expect.FirstValue && byte === CLOSE_ARRAY)) {
      depth--;
      i++;
      if (depth === 0) return skipSpace(json, i) === json.length;
      expect = Expect.AfterValue;
      continue;
    }
    if (expect === Expect.Key || expect === Expect.FirstKey) {
      if (byte !== QUOTE) return false;
      i = skipSpace(json, scanString(json, i));
      if (i < 0 || json[i] !== COLON) return false;
      i++;
      expect = Expect.Value;
      continue;
    }
    if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      open[depth++] = byte === OPEN_OBJECT ? 1 : 2;
      expect = byte === OPEN_OBJECT ? Expect.FirstKey : Expect.FirstValue;
      i++;
      continue;
    }
    i = byte === QUOTE ? scanString(json, i) : scanScalar(json, i);
    if (i < 0) return false;
    if (depth === 0) return skipSpace(json, i) === json.length;
    expect = Expect.AfterValue;
  }
}

/** Past the (valid) value at `i`: strings and nesting skipped by counting, without recursion. */
function skipValue(json: Buffer, i: number): number {
  const first = json[i]!;
  if (first === QUOTE) return scanString(json, i);
  if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) return scanScalar(json, i);
  let depth = 0;
  for (let j = i; j < json.length; ) {
    const byte = json[j]!;
    if (byte === QUOTE) {
      j = scanString(json, j);
      continue;
    }
    if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) depth++;
    else if ((byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) && --depth === 0) return j + 1;
    j++;
  }
  return json.length;
}

/** Whether the quoted key at [start, end) is `name`: compared in place, parsed only if it has escapes. */
function keyIs(json: Buffer, start: number, end: number, wanted: Buffer, name: string): boolean {
  if (end - start === wanted.length && json.compare(wanted, 0, wanted.length, start, end) === 0) return true;
  for (let j = start; j < end; j++) {
    if (json[j] === BACKSLASH) return JSON.parse(json.toString('utf8', start, end)) === name;
  }
  return false;
}

interface Member {
  /** Byte offset of the key's opening quote. */
  start: number;
  valueStart: number;
  /** Byte offset just past the value. */
  end: number;
}

/**
 * The top-level members of a valid JSON object whose key is `name`, and the byte range to cut so the
 * object stays valid without the first of them: that member and one adjacent comma. Only keys with
 * escapes are parsed; the others are compared as bytes, so a million members cost no allocation each.
 */
function membersNamed(json: Buffer, from: number, name: string): { matches: Member[]; span: [number, number] } {
  const wanted = Buffer.from(JSON.stringify(name));
  const matches: Member[] = [];
  let first: { member: Member; previousEnd: number } | undefined;
  let nextStart: number | undefined;
  let previousEnd = -1;
  let i = skipSpace(json, from) + 1; // past '{'
  for (;;) {
    i = skipSpace(json, i);
    if (json[i] !== QUOTE) break; // '}'
    const start = i;
    if (first && nextStart === undefined) nextStart = start;
    const keyEnd = scanString(json, i);
    const matched = keyIs(json, start, keyEnd, wanted, name);
    const valueStart = skipSpace(json, skipSpace(json, keyEnd) + 1); // past ':'
    const end = skipValue(json, valueStart);
    if (matched) {
      const member = { start, valueStart, end };
      matches.push(member);
      first ??= { member, previousEnd };
    }
    previousEnd = end;
    i = skipSpace(json, end);
    if (json[i] !== COMMA) break;
    i += 1;
  }
  if (!first) return { matches, span: [0, 0] };
  // Cut the member up to the next one; the last one back to the end of the one before it.
  const { member } = first;
  if (nextStart !== undefined) return { matches, span: [member.start, nextStart] };
  return { matches, span: first.previousEnd === -1 ? [member.start, member.end] : [first.previousEnd, member.end] };
}
