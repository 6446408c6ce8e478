import { RelayError } from './errors';
import { findPairs, withoutPairs } from './query';

// Taking the API path out of a POST/PUT body without touching anything else in it. The body is never
// parsed and re-serialised: big integers (12345678901234567890), `1.0`, key order and spacing all
// survive, because we cut the one member out of the original bytes.

export interface BodyField {
  value: string;
  /** The body without that field. */
  body: Buffer;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Bytes held as latin1 text, read as the UTF-8 a mini program sends; undefined when they are not UTF-8. */
function utf8FromLatin1(piece: string): string | undefined {
  if (!/[^\x00-\x7f]/.test(piece)) return piece;
  try {
    return strictUtf8.decode(Buffer.from(piece, 'latin1'));
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
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8', start));
  } catch {
    throw new RelayError('BAD_BODY', `the body is not valid JSON, and no "${name}" was given in the query`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new RelayError('BAD_BODY', `the JSON body must be an object carrying "${name}", or "${name}" must be in the query`);
  }
  const members = topLevelMembers(body, start);
  const matches = members.filter((member) => member.key === name);
  if (matches.length === 0) return undefined;
  const value = singleValue(
    matches.map((member) => JSON.parse(strictText(body.subarray(member.valueStart, member.end), name)) as unknown),
    name,
  );
  const [cutFrom, cutTo] = memberSpan(members, members.indexOf(matches[0]!));
  return { value, body: Buffer.concat([body.subarray(0, cutFrom), body.subarray(cutTo)]) };
}

/** The field's bytes as UTF-8, refused if they are not: a lenient decode would forward U+FFFD instead. */
function strictText(bytes: Buffer, name: string): string {
  try {
    return strictUtf8.decode(bytes);
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

interface Member {
  key: string;
  /** Byte offset of the key's opening quote. */
  start: number;
  valueStart: number;
  /** Byte offset just past the value. */
  end: number;
}

/** The byte range to cut so that the object stays valid JSON: the member and one adjacent comma. */
function memberSpan(members: Member[], index: number): [number, number] {
  const member = members[index]!;
  const next = members[index + 1];
  if (next) return [member.start, next.start];
  const previous = members[index - 1];
  if (previous) return [previous.end, member.end];
  return [member.start, member.end];
}

// A scanner for the top level of a JSON object that JSON.parse has already accepted, so it only needs
// to find boundaries, not validate. Works on bytes: every structural character is ASCII.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPENERS = new Set([0x7b, 0x5b]);
const CLOSERS = new Set([0x7d, 0x5d]);

function topLevelMembers(json: Buffer, start: number): Member[] {
  const members: Member[] = [];
  let i = skipSpace(json, start) + 1; // past '{'
  for (;;) {
    i = skipSpace(json, i);
    if (json[i] !== QUOTE) return members; // '}' of an empty object
    const start = i;
    const keyEnd = skipString(json, i);
    const key = JSON.parse(json.toString('utf8', start, keyEnd)) as string;
    i = skipSpace(json, keyEnd);
    if (json[i] !== COLON) return members;
    const valueStart = skipSpace(json, i + 1);
    const end = skipValue(json, valueStart);
    members.push({ key, start, valueStart, end });
    i = skipSpace(json, end);
    if (json[i] !== COMMA) return members;
    i += 1;
  }
}

function skipSpace(json: Buffer, i: number): number {
  while (i < json.length && (json[i] === 0x20 || json[i] === 0x0a || json[i] === 0x0d || json[i] === 0x09)) i++;
  return i;
}

function skipString(json: Buffer, i: number): number {
  let j = i + 1;
  while (j < json.length && json[j] !== QUOTE) j += json[j] === BACKSLASH ? 2 : 1;
  return j + 1;
}

function skipValue(json: Buffer, i: number): number {
  const first = json[i] as number;
  if (first === QUOTE) return skipString(json, i);
  if (OPENERS.has(first)) {
    let depth = 0;
    for (let j = i; j < json.length; ) {
      const byte = json[j] as number;
      if (byte === QUOTE) {
        j = skipString(json, j);
        continue;
      }
      if (OPENERS.has(byte)) depth++;
      else if (CLOSERS.has(byte) && --depth === 0) return j + 1;
      j++;
    }
    return json.length;
  }
  let j = i;
  while (j < json.length && json[j] !== COMMA && !CLOSERS.has(json[j] as number) && skipSpace(json, j) === j) j++;
  return j;
}
