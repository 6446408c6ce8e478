import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Relay } from '../../core/relay';
import { BODY_TOO_LARGE, type RelayResponse } from '../../core/types';

// Node's (req, res) calling convention: the local server, and later Tencent SCF web functions.

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface NodeHandlerOptions {
  /** The scheme clients use to reach this server (https behind a cloud's TLS front). */
  protocol?: 'http' | 'https';
  /** Headers the platform in front adds for itself (`x-scf-`): never passed upstream. */
  internalHeaderPrefixes?: readonly string[];
  /** A header in which the platform in front names the caller, trusted over the socket address. */
  clientIpHeader?: string;
}

// An oversized upload is read to its end (and thrown away) before the 413 is sent: Node closes a
// connection whose request is unfinished, and a client still sending then gets a reset instead of
// the answer. These bound how long and how much we read for that.
const DRAIN_MS = 10_000;
const DRAIN_BYTES = 64 * 1024 * 1024;

export function nodeHandler(relay: Relay, options: NodeHandlerOptions = {}): NodeHandler {
  const protocol = options.protocol ?? 'http';
  const prefixes = options.internalHeaderPrefixes ?? [];
  return (req, res) => {
    readBody(req, relay.maxBodyBytes).then(
      async (body) => {
        const target = req.url ?? '/';
        const mark = target.indexOf('?');
        const response = await relay.handle({
          method: req.method ?? 'GET',
          path: asUnicode(mark === -1 ? target : target.slice(0, mark)),
          query: asUnicode(mark === -1 ? '' : target.slice(mark + 1)),
          headers: prefixes.length === 0 ? req.headers : withoutInternal(req.headers, prefixes),
          body,
          clientIp: clientIpOf(req, options.clientIpHeader),
          protocol,
        });
        writeResponse(res, response);
      },
      // The client went away mid-upload: nobody is left to answer.
      () => res.destroy(),
    );
  };
}

export function writeResponse(res: ServerResponse, response: RelayResponse): void {
  if (res.destroyed) return;
  res.writeHead(response.status, response.headers);
  res.end(response.body);
}

/** Buffers the body up to `limit` bytes; past it, keeps nothing and reports BODY_TOO_LARGE once the upload ends. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | typeof BODY_TOO_LARGE> {
  let tooLarge = Number(req.headers['content-length']) > limit;
  // Answered before `100 Continue` was sent (see the server): the client holds its body back.
  if (tooLarge && /100-continue/i.test(String(req.headers['expect']))) return Promise.resolve(BODY_TOO_LARGE);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let giveUp: NodeJS.Timeout | undefined;
    const stopDraining = () => {
      clearTimeout(giveUp);
      resolve(BODY_TOO_LARGE);
    };
    const startDraining = () => {
      tooLarge = true;
      chunks.length = 0;
      giveUp = setTimeout(stopDraining, DRAIN_MS);
    };
    if (tooLarge) startDraining();
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (!tooLarge && size > limit) startDraining();
      if (!tooLarge) chunks.push(chunk);
      else if (size > DRAIN_BYTES) stopDraining();
    });
    req.on('end', () => (tooLarge ? stopDraining() : resolve(Buffer.concat(chunks, size))));
    req.on('error', reject);
    req.on('close', () => {
      clearTimeout(giveUp);
      if (!req.complete) reject(new Error('client aborted'));
    });
  });
}

function withoutInternal(headers: IncomingHttpHeaders, prefixes: readonly string[]): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !prefixes.some((prefix) => name.startsWith(prefix))));
}

function clientIpOf(req: IncomingMessage, header: string | undefined): string | undefined {
  const named = header === undefined ? undefined : req.headers[header];
  if (typeof named === 'string' && /^[0-9a-fA-F.:]{2,45}$/.test(named.trim())) return named.trim();
  return req.socket.remoteAddress?.replace(/^::ffff:/, '');
}

/** Node hands us the request line as latin1 text; raw UTF-8 bytes in it are turned back into characters. */
function asUnicode(text: string): string {
  return /[^\x00-\x7f]/.test(text) ? Buffer.from(text, 'latin1').toString('utf8') : text;
}
