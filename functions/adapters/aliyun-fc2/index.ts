import { RelayError } from '../../core/errors';
import type { PlatformLimits, Relay } from '../../core/relay';
import type { RelayResponse } from '../../core/types';
import { eventHeaders, isObject, queryFromParams, text } from '../event/translate';

// Aliyun Function Compute 2.0, HTTP trigger: `handler(req, resp, context)`, answered through `resp`.
// https://help.aliyun.com/document_detail/74757.html (Node.js HTTP handler)

export interface Fc2Request {
  headers: Record<string, string | string[] | undefined>;
  path: string;
  queries?: Record<string, string | string[]>;
  method: string;
  clientIP?: string;
  url?: string;
  /** Newer runtimes buffer the body here; older ones leave it on the stream (unconfirmed which). */
  body?: Buffer | string;
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

// FC 2.0 will not let a function set these (the platform owns them), and it ignores `x-fc-*`.
// Content-Encoding is among them, so the relay asks the upstream for an uncompressed body.
const NOT_SETTABLE = new Set(['connection', 'content-length', 'date', 'keep-alive', 'server', 'upgrade', 'content-encoding', 'trailer', 'transfer-encoding']);

/** Recognises the (req, resp) pair: FC2's response object has setStatusCode and send. */
export function isFc2Call(req: unknown, resp: unknown): req is Fc2Request {
  return isObject(req) && isObject(resp) && typeof resp.setStatusCode === 'function' && typeof resp.send === 'function';
}

export async function handleFc2(relay: Relay, req: Fc2Request, resp: Fc2Response): Promise<void> {
  const headers = eventHeaders(req.headers, ['x-fc-']);
  // FC2 strips Content-Encoding from what we send, so a compressed body would reach the client
  // undecodable: ask for identity, and decode below if the upstream compresses anyway.
  headers['accept-encoding'] = 'identity';
  const target = rawTarget(req);
  const body = await readBody(req);
  const response = await relay.handle(
    {
      method: req.method.toUpperCase(),
      path: target.path,
      query: target.query ?? queryFromParams(req.queries),
      headers,
      body,
      clientIp: text(req.clientIP),
      protocol: headers['x-forwarded-proto'] === 'http' ? 'http' : 'https',
    },
    FC2_LIMITS,
  );
  send(resp, await withoutContentEncoding(relay, req.method, response));
}

/**
 * Path and raw query, from `url` when the runtime gives one (it keeps the client's encoding), else
 * from `path`. On the default `*.fc.aliyuncs.com` domain the path starts with
 * `/2016-08-15/proxy/<service>/<function>`, which is the platform's, not the client's.
 */
function rawTarget(req: Fc2Request): { path: string; query: string | undefined } {
  let path = req.path;
  let query: string | undefined;
  const url = text(req.url);
  if (url !== undefined) {
    const local = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i, '');
    const mark = local.indexOf('?');
    path = mark === -1 ? local : local.slice(0, mark);
    if (mark !== -1) query = local.slice(mark + 1);
  }
  path = path.replace(/^\/\d{4}-\d{2}-\d{2}\/proxy\/[^/]+\/[^/]+/, '') || '/';
  return { path, query };
}

function readBody(req: Fc2Request): Promise<Buffer> {
  if (Buffer.isBuffer(req.body)) return Promise.resolve(req.body);
  if (typeof req.body === 'string') return Promise.resolve(Buffer.from(req.body));
  if (typeof req.on !== 'function') return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on!('data', (chunk: Buffer) => chunks.push(chunk));
    req.on!('end', () => resolve(Buffer.concat(chunks)));
    req.on!('error', reject);
  });
}

/** The upstream compressed although asked not to: decode here, since FC2 would drop the header. */
async function withoutContentEncoding(relay: Relay, method: string, response: RelayResponse): Promise<RelayResponse> {
  const encoding = [response.headers['content-encoding']].flat()[0]?.trim().toLowerCase();
  if (encoding === undefined || encoding === 'identity' || response.body.length === 0) return response;
  // Loaded only here, on this rare path: it would add a few milliseconds to every cold start.
  const { default: zlib } = await import('node:zlib');
  const decode = { gzip: zlib.gunzipSync, 'x-gzip': zlib.gunzipSync, deflate: zlib.inflateSync, br: zlib.brotliDecompressSync }[encoding];
  try {
    if (!decode) throw new Error(encoding);
    const { 'content-encoding': _dropped, ...headers } = response.headers;
    return { ...response, headers, body: decode(response.body) };
  } catch {
    const message = `the upstream sent a ${encoding}-encoded body that could not be decoded, and FC 2.0 cannot pass Content-Encoding on`;
    return relay.reject(new RelayError('UPSTREAM_UNREACHABLE', message), method);
  }
}

function send(resp: Fc2Response, response: RelayResponse): void {
  resp.setStatusCode(response.status);
  for (const [name, value] of Object.entries(response.headers)) {
    if (NOT_SETTABLE.has(name) || name.startsWith('x-fc-')) continue;
    // Several Set-Cookie go as an array, which FC2 writes as repeated headers.
    resp.setHeader(name, value);
  }
  resp.send(response.body);
}
