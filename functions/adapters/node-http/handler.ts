import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { errorResponse, RelayError } from '../../core/errors';
import type { Relay } from '../../core/relay';
import { BODY_TOO_LARGE, type CancelSignal, type HeaderMap, type RelayResponse } from '../../core/types';
import { isPlatformHeader, NO_PLATFORM_HEADERS, type PlatformHeaders } from '../shared/platform-headers';

// Node's (req, res) calling convention: the local server and Tencent SCF web functions.

/** Resolves once the request is over, its upstream call included (so a slot can be given back). */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<void>;

export interface NodeHandlerOptions {
  /** The scheme clients use to reach this server (https behind a cloud's TLS front). */
  protocol?: 'http' | 'https';
  /** Headers the platform in front adds for itself: never passed upstream. */
  platformHeaders?: PlatformHeaders;
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
  const platform = options.platformHeaders ?? NO_PLATFORM_HEADERS;
  return async (req, res, requestId) => {
    // A client that goes away abandons its upstream call too: no work continues for nobody.
    const gone = new ClientGone();
    res.once('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    let body: Buffer | typeof BODY_TOO_LARGE;
    if (!hasBody(req)) body = NO_BODY;
    else {
      try {
        body = await readBody(req, relay.maxBodyBytes, relay.bodyTimeoutMs);
      } catch (error) {
        if (error instanceof RelayError) {
          // The rest of the body is not coming: answer, then close the connection it was on.
          res.shouldKeepAlive = false;
          writeResponse(res, relay.reject(error, req.method ?? '-'));
        } else res.destroy(); // the client went away mid-upload: nobody is left to answer
        return;
      }
    }
    const target = req.url ?? '/';
    const mark = target.indexOf('?');
    // Read before the platform's headers are taken out: one of them may name the caller.
    const clientIp = clientIpOf(req, options.clientIpHeader);
    const response = await relay.handleStreaming({
      method: req.method ?? 'GET',
      path: asUnicode(mark === -1 ? target : target.slice(0, mark)),
      query: asUnicode(mark === -1 ? '' : target.slice(mark + 1)),
      headers: forwardable(req.headers, platform, requestId),
      headersParsed: true,
      body,
      clientIp,
      protocol,
      signal: gone,
    });
    // A platform reads its reserved headers on the answer too (FC takes x-fc-status as the call's
    // result): an upstream's, say one itself running on FC, must not reach it.
    if (platform.reservedPrefix) dropReserved(response.headers, platform.reservedPrefix);
    const { stream } = response;
    if (stream && writeHead(res, response)) {
      // Started first: a body held whole is then already handed to the kernel, with nothing to watch.
      const delivered = stream.pipeTo(res);
      watchDelivery(res, relay.bodyTimeoutMs);
      await delivered;
      return;
    }
    stream?.discard(res.headersSent ? 'BAD_UPSTREAM' : 'CLIENT_CLOSED');
    writeResponse(res, response);
    watchDelivery(res, relay.bodyTimeoutMs);
  };
}

const NO_BODY = Buffer.alloc(0);

function dropReserved(headers: Record<string, unknown>, prefix: string): void {
  for (const name of Object.keys(headers)) if (name.startsWith(prefix)) delete headers[name];
}

/** Aborted when the client has gone: the core's CancelSignal without an EventTarget per request. */
class ClientGone implements CancelSignal {
  aborted = false;
  private listeners: (() => void)[] = [];

  addEventListener(_type: 'abort', listener: () => void): void {
    this.listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    this.listeners = this.listeners.filter((each) => each !== listener);
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    for (const listener of this.listeners) listener();
  }
}

/** RFC 9112 6.3: a request has a body only if it says so, by Content-Length or Transfer-Encoding. */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * A client that stops reading its answer would keep the whole buffered body in memory for as long as
 * the connection lives: past `idleMs` without a byte delivered, the connection is closed.
 */
function watchDelivery(res: ServerResponse, idleMs: number): void {
  const socket = res.socket;
  // All of it already handed to the kernel: nothing is left in memory for a stalled client to hold.
  if (res.writableFinished || !socket || (res.writableEnded && socket.writableLength === 0)) return;
  // bytesWritten counts what is still queued too; less writableLength, it is what the client took.
  const sent = () => socket.bytesWritten - socket.writableLength;
  let delivered = sent();
  const timer = setInterval(() => {
    if (sent() !== delivered) delivered = sent();
    else res.destroy();
  }, idleMs);
  timer.unref();
  res.once('close', () => clearInterval(timer));
}

/**
 * Writes the status and headers. Headers the upstream sent that Node will not write (it checks what it
 * sends more strictly than what it parses) turn into a 502 instead of an exception; false then.
 */
function writeHead(res: ServerResponse, response: RelayResponse): boolean {
  if (res.destroyed || res.headersSent) return false;
  try {
    res.writeHead(response.status, response.headers);
    return true;
  } catch (error) {
    const requestId = String(response.headers['x-request-id'] ?? '-');
    const refusal = errorResponse(new RelayError('BAD_UPSTREAM', `the upstream sent a header that cannot be relayed (${(error as NodeJS.ErrnoException).code ?? 'invalid'})`), requestId);
    res.writeHead(refusal.status, refusal.headers);
    res.end(refusal.body);
    return false;
  }
}

/** Writes a whole (buffered) answer. */
export function writeResponse(res: ServerResponse, response: RelayResponse): void {
  if (writeHead(res, response)) res.end(response.body);
}

/**
 * Buffers the body up to `limit` bytes; past it, keeps nothing and reports BODY_TOO_LARGE once the upload
 * ends. A body that stops arriving for `idleMs` is refused with REQUEST_TIMEOUT.
 */
function readBody(req: IncomingMessage, limit: number, idleMs: number): Promise<Buffer | typeof BODY_TOO_LARGE> {
  let tooLarge = Number(req.headers['content-length']) > limit;
  // Answered before `100 Continue` was sent (see the server): the client holds its body back.
  if (tooLarge && /100-continue/i.test(String(req.headers['expect']))) return Promise.resolve(BODY_TOO_LARGE);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let giveUp: NodeJS.Timeout | undefined;
    let idle: NodeJS.Timeout | undefined;
    const finish = (result: Buffer | typeof BODY_TOO_LARGE) => {
      clearTimeout(giveUp);
      clearTimeout(idle);
      resolve(result);
    };
    const fail = (error: Error) => {
      clearTimeout(giveUp);
      clearTimeout(idle);
      reject(error);
    };
    const restartIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => fail(new RelayError('REQUEST_TIMEOUT', `the request body stopped arriving for ${idleMs} ms`)), idleMs);
    };
    const startDraining = () => {
      tooLarge = true;
      chunks.length = 0;
      giveUp = setTimeout(() => finish(BODY_TOO_LARGE), DRAIN_MS);
    };
    if (tooLarge) startDraining();
    restartIdle();
    req.on('data', (chunk: Buffer) => {
      restartIdle();
      size += chunk.length;
      if (!tooLarge && size > limit) startDraining();
      if (!tooLarge) chunks.push(chunk);
      else if (size > DRAIN_BYTES) finish(BODY_TOO_LARGE);
    });
    req.on('end', () => finish(tooLarge ? BODY_TOO_LARGE : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.on('error', fail);
    req.on('close', () => {
      if (!req.complete) fail(new Error('client aborted'));
    });
  });
}

/**
 * The client's headers less the platform's own, with the request id the server chose for this request.
 * Node's map is ours to change, so it is edited in place rather than copied. (Node's parser drops a
 * header named `__proto__` before we see it.)
 */
function forwardable(headers: IncomingHttpHeaders, platform: PlatformHeaders, requestId: string): HeaderMap {
  if (platform !== NO_PLATFORM_HEADERS) {
    for (const name of Object.keys(headers)) if (isPlatformHeader(platform, name)) delete headers[name];
  }
  headers['x-request-id'] = requestId;
  return headers;
}

function clientIpOf(req: IncomingMessage, header: string | undefined): string | undefined {
  const named = header === undefined ? undefined : req.headers[header];
  if (typeof named === 'string' && /^[0-9a-fA-F.:]{2,45}$/.test(named.trim())) return named.trim();
  const address = req.socket.remoteAddress;
  return address?.startsWith('::ffff:') ? address.slice(7) : address;
}

/** Node hands us the request line as latin1 text; raw UTF-8 bytes in it are turned back into characters. */
function asUnicode(text: string): string {
  return /[^\x00-\x7f]/.test(text) ? Buffer.from(text, 'latin1').toString('utf8') : text;
}
