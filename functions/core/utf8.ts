// Strict UTF-8 decoding (truncated, overlong and surrogate sequences throw instead of becoming U+FFFD),
// with decoders made on first use: creating one loads ICU's converter, which a cold start need not pay for.

import { TextDecoder } from 'node:util';

let keepingBom: TextDecoder | undefined;
let droppingBom: TextDecoder | undefined;

/** The exact text of `bytes`; a leading byte-order mark stays part of it unless `dropBom`. Throws on invalid UTF-8. */
export function decodeStrictUtf8(bytes: Uint8Array, dropBom = false): string {
  const decoder = dropBom
    ? (droppingBom ??= new TextDecoder('utf-8', { fatal: true }))
    : (keepingBom ??= new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }));
  return decoder.decode(bytes);
}
