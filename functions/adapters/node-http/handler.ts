import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Relay } from '../../core/relay';
import { BODY_TOO_LARGE, type RelayResponse } from '../../core/types';

// Node's (req, res) calling convention: the local server, and later Tencent SCF web functions.

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface NodeHandlerOptions {
  /** The scheme clients use to reach this server (https behind a cloud's TLS front). */
  protocol?: 'http' | 'https';
}

/** After answering 413 we keep reading (and discarding) the upload for this long, so the client sees the answer. */
const DRAIN_MS = 10_000;

export function nodeHandler(relay: Relay, options: NodeHandlerOptions = {}): NodeHandler {
  const protocol = options.protocol ?? 'http';
  return (req, res) => {
    readBody(req, relay.maxBodyBytes).then(
      async (body) => {
        const target = req.url ?? '/';
        const mark = target.indexOf('?');
        const response = await relay.handle({
          method: req.method ?? 'GET',
          path: asUnicode(mark === -1 ? target : target.slice(0, mark)),
          query: asUnicode(mark === -1 ? '' : target.slice(mark + 1)),
          headers: req.headers,
          body,
          clientIp: req.socket.remoteAddress?.replace(/^::ffff:/, ''),
          protocol,
        });
        if (body === BODY_TOO_LARGE) drain(req);
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

/** Buffers the body up to `limit` bytes; past it, stops keeping bytes and reports BODY_TOO_LARGE. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | typeof BODY_TOO_LARGE> {
  if (Number(req.headers['content-length']) > limit) return Promise.resolve(BODY_TOO_LARGE);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      resolve(BODY_TOO_LARGE);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new Error('client aborted'));
    });
  });
}

/**
 * Discards the rest of an oversized upload. Closing the socket while the client is still sending
 * makes its TCP stack reset the connection, and the 413 is then lost; so we read on for a while.
 */
function drain(req: IncomingMessage): void {
  if (req.complete) return;
  const timer = setTimeout(() => req.socket.destroy(), DRAIN_MS);
  req.on('data', () => {});
  req.on('close', () => clearTimeout(timer));
  req.resume();
}

/** Node hands us the request line as latin1 text; raw UTF-8 bytes in it are turned back into characters. */
function asUnicode(text: string): string {
  return /[^\x00-\x7f]/.test(text) ? Buffer.from(text, 'latin1').toString('utf8') : text;
}
