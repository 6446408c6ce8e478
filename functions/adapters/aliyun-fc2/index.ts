import { RelayError } from '../../core/errors';
import type { PlatformLimits, Relay } from '../../core/relay';
import { BODY_TOO_LARGE, type RelayResponse } from '../../core/types';
import { eventBody, eventHeaders, isObject, optionalText, queryFromParams, requiredMethod, requiredText } from '../event/translate';
import { ALIYUN_FC_HEADERS } from '../shared/platform-headers';

// Aliyun Function Compute 2.0, HTTP trigger: `handler(req, resp, context)`, answered through `resp`.
// https://help.aliyun.com/document_detail/74757.html (Node.js HTTP handler)

// Typed as the runtime documents it, read as untrusted: every field is checked before use.
export interface Fc2Request {
  headers: unknown;
  path: unknown;
  queries?: unknown;
  method: unknown;
  clientIP?: unknown;
  url?: unknown;
  /** Newer runtimes buffer the body here; older ones leave it on the stream (unconfirmed which). */
  body?: unknown;
  on?(event: string, listener: (...args: any[]) => void): unknown;
}

export interface Fc2Response {
  setStatusCode(status: number): void;
  setHeader(name: string, value: string | string[]): void;
  send(body: Buffer | string): void;
}

const MB = 1024 * 1024;

const FC2_LIMITS: PlatformLimits = {
  platform: 'Aliyun FC 2.0',
  // The documented synchronous payload limit; the response is assumed to share it (unconfirmed).
  maxRequestBytes: 32 * MB,
  maxResponseBytes: 32 * MB,
  responseSize: (_headers, bodyLength) => bodyLength,
};

// FC 2.0 will not let a function set these (the platform owns them), and it ignores `x-fc-*`
// (document 74757). Content-Encoding, Trailer and Transfer-Encoding are only reported by users
// (developer.aliyun.com/ask/647205), not documented, so both readings are handled: the relay asks the
// upstream for an uncompressed body and decodes, bounded, one that comes compressed anyway.
const NOT_SETTABLE = new Set(['connection', 'content-length', 'date', 'keep-alive', 'server', 'upgrade', 'content-encoding', 'trailer', 'transfer-encoding']);

/** Recognises the (req, resp) pair: FC2's response object has setStatusCode and send. */
export function isFc2Call(req: unknown, resp: unknown): req is Fc2Request {
  return isObject(req) && isObject(resp) && typeof resp.setStatusCode === 'function' && typeof resp.send === 'function';
}

/** Answers through `resp` whatever happens: FC2 does not look at a returned promise or a thrown error. */
export async function handleFc2(relay: Relay, req: Fc2Request, resp: Fc2Response): Promise<void> {
  let method = '-';
  let response: RelayResponse;
  try {
    method = requiredMethod(req.method, 'req.method');
    const headers = eventHeaders(req.headers, ALIYUN_FC_HEADERS);
    // FC2 strips Content-Encoding from what we send, so a compressed body would reach the client
    // undecodable: ask for identity, and decode below if the upstream compresses anyway.
    headers['accept-encoding'] = 'identity';
    const target = rawTarget(req);
    const body = await readBody(req, Math.min(relay.maxBodyBytes, FC2_LIMITS.maxRequestBytes), relay.bodyTimeoutMs).catch((error: unknown) => {
      // A request stream that fails: the client went away or sent a broken body.
      throw error instanceof RelayError ? error : new RelayError('BAD_REQUEST', 'the request body could not be read');
    });
    response = await relay.handle(
      {
        method,
        path: target.path,
        query: target.query ?? queryFromParams(req.queries),
        headers,
        body,
        clientIp: optionalText(req.clientIP, 'req.clientIP', 64),
        protocol: headers['x-forwarded-proto'] === 'http' ? 'http' : 'https',
      },
      FC2_LIMITS,
    );
    response = withoutContentEncoding(relay, method, response);
  } catch (error) {
    // A RelayError says what was wrong; anything else came from reading a `req` FC would not send.
    const relayError = error instanceof RelayError ? error : new RelayError('BAD_EVENT', 'the request object could not be read');
    response = relay.reject(relayError, method, error instanceof RelayError ? undefined : String(error));
  }
  try {
    send(resp, response);
  } catch (error) {
    // `resp` itself failed: nothing is left to answer through; say so in the log.
    relay.reject(new RelayError('INTERNAL', 'the answer could not be sent through resp'), method, String(error));
  }
}

/**
 * Path and raw query, from `url` when the runtime gives one (it keeps the client's encoding), else
 * from `path`. On the default `*.fc.aliyuncs.com` domain the path starts with
 * `/2016-08-15/proxy/<service>/<function>`, which is the platform's, not the client's.
 */
function rawTarget(req: Fc2Request): { path: string; query: string | undefined } {
  let path = requiredText(req.path, 'req.path');
  let query: string | undefined;
  const url = optionalText(req.url, 'req.url');
  if (url !== undefined) {
    const local = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i, '');
    const mark = local.indexOf('?');
    path = mark === -1 ? local : local.slice(0, mark);
    if (mark !== -1) query = local.slice(mark + 1);
  }
  path = path.replace(/^\/\d{4}-\d{2}-\d{2}\/proxy\/[^/]+\/[^/]+/, '') || '/';
  return { path, query };
}

/** The body, buffered or from the stream: bounded in size (413) and in how long it may stall (408). */
function readBody(req: Fc2Request, maxBytes: number, idleMs: number): Promise<Buffer | typeof BODY_TOO_LARGE> {
  if (req.body !== undefined && req.body !== null) {
    if (Buffer.isBuffer(req.body)) return Promise.resolve(req.body.length > maxBytes ? BODY_TOO_LARGE : req.body);
    return Promise.resolve(eventBody(req.body, false, maxBytes));
  }
  if (typeof req.on !== 'function') return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let idle: NodeJS.Timeout | undefined;
    const restartIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => reject(new RelayError('REQUEST_TIMEOUT', `the request body stopped arriving for ${idleMs} ms`)), idleMs);
    };
    restartIdle();
    req.on!('data', (chunk: unknown) => {
      restartIdle();
      // FC streams Buffers; anything else is not a body the relay can forward byte for byte.
      if (!Buffer.isBuffer(chunk)) {
        clearTimeout(idle);
        reject(new RelayError('BAD_EVENT', 'the request stream did not yield bytes'));
        return;
      }
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.on!('end', () => {
      clearTimeout(idle);
      resolve(size > maxBytes ? BODY_TOO_LARGE : Buffer.concat(chunks, size));
    });
    req.on!('error', (error: unknown) => {
      clearTimeout(idle);
      reject(error);
    });
  });
}

/**
 * The upstream compressed although asked not to: decode here, since FC2 would drop the header. The
 * output is capped at the response limit (zlib stops there), so a small bomb cannot fill memory.
 */
function withoutContentEncoding(relay: Relay, method: string, response: RelayResponse): RelayResponse {
  const encoding = [response.headers['content-encoding']].flat()[0]?.trim().toLowerCase();
  if (encoding === undefined || encoding === 'identity' || response.body.length === 0) return response;
  // Loaded only here, on this rare path: it would add a few milliseconds to every cold start.
  const zlib = require('node:zlib') as typeof import('node:zlib');
  const decode = { gzip: zlib.gunzipSync, 'x-gzip': zlib.gunzipSync, deflate: zlib.inflateSync, br: zlib.brotliDecompressSync }[encoding];
  const maxOutputLength = Math.min(relay.maxResponseBytes, FC2_LIMITS.maxResponseBytes);
  try {
    if (!decode) throw new Error(encoding);
    const { 'content-encoding': _dropped, ...headers } = response.headers;
    return { ...response, headers, body: decode(response.body, { maxOutputLength }) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      const message = `the upstream's ${encoding}-encoded response is larger than ${maxOutputLength} bytes once decoded (FC 2.0 cannot pass Content-Encoding on)`;
      return relay.reject(new RelayError('RESPONSE_TOO_LARGE', message), method);
    }
    const message = `the upstream sent a ${encoding}-encoded body that could not be decoded, and FC 2.0 cannot pass Content-Encoding on`;
    return relay.reject(new RelayError('BAD_UPSTREAM', message), method);
  }
}

function send(resp: Fc2Response, response: RelayResponse): void {
  resp.setStatusCode(response.status);
  for (const name of Object.keys(response.headers)) {
    const value = response.headers[name]!;
    if (NOT_SETTABLE.has(name) || name.startsWith('x-fc-')) continue;
    // Several Set-Cookie go as an array, which FC2 writes as repeated headers.
    resp.setHeader(name, value);
  }
  resp.send(response.body);
}
