import http from 'node:http';
import https from 'node:https';
import { RelayError } from './errors';

// The one HTTP client of the relay: node:http/https with keep-alive agents, no dependency. A
// cross-border TLS handshake costs several round trips, so the agents live at module scope and their
// sockets survive between the invocations of a warm function instance.

export interface Agents {
  http: http.Agent;
  https: https.Agent;
}

const AGENT_OPTIONS = {
  keepAlive: true,
  // Reuse the most recently used socket first: it is the least likely to have been closed upstream.
  scheduling: 'lifo',
  maxSockets: 256,
  // As many idle sockets as busy ones: a lower cap makes a burst of concurrent requests close and
  // reopen connections (measured: a third of the throughput lost at 64 concurrent, docs/benchmarks.md).
  maxFreeSockets: 256,
  // Idle sockets are closed after this; many servers close theirs after 5 to 75 s.
  timeout: 30_000,
} as const;

export const defaultAgents: Agents = {
  http: new http.Agent(AGENT_OPTIONS),
  https: new https.Agent(AGENT_OPTIONS), // certificate verification stays on: never rejectUnauthorized: false
};

export interface UpstreamRequest {
  url: URL;
  method: string;
  headers: http.OutgoingHttpHeaders;
  body: Buffer | undefined;
  /** Total time allowed until the whole response has arrived. */
  timeoutMs: number;
  maxResponseBytes: number;
}

export interface UpstreamResponse {
  status: number;
  /** Node's rawHeaders: name, value, name, value, ... in the order received. */
  rawHeaders: string[];
  body: Buffer;
}

/** Errors that mean a kept-alive socket had been closed by the server before we used it. */
const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/**
 * Sends the request and buffers the whole response (so a truncated body becomes a clean 502 instead of
 * a half-sent 200). A GET that fails on a reused socket before any response byte arrived is retried
 * once on a new connection; other methods are never retried, since the server may have acted on them.
 */
export async function forward(request: UpstreamRequest, agents: Agents = defaultAgents): Promise<UpstreamResponse> {
  const deadline = Date.now() + request.timeoutMs;
  try {
    return await attempt(request, deadline, agents);
  } catch (error) {
    if (!(error instanceof StaleSocketError) || request.method !== 'GET') throw toRelayError(error, request);
    try {
      return await attempt(request, deadline, agents, true);
    } catch (retryError) {
      throw toRelayError(retryError, request);
    }
  }
}

class StaleSocketError extends Error {
  constructor(readonly original: NodeJS.ErrnoException) {
    super(original.message);
  }
}

class TimeoutError extends Error {}

function attempt(request: UpstreamRequest, deadline: number, agents: Agents, freshConnection = false): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    const { url } = request;
    const secure = url.protocol === 'https:';
    const client = secure ? https : http;
    let responded = false;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (error: Error | undefined, response?: UpstreamResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        outgoing.destroy();
        reject(error);
      } else resolve(response!);
    };

    const outgoing = client.request({
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port || (secure ? 443 : 80),
      method: request.method,
      path: url.pathname + url.search,
      headers: request.headers,
      // A one-off agent guarantees a new connection for the retry; the pooled ones may all be stale.
      agent: freshConnection ? false : secure ? agents.https : agents.http,
    });
    timer = setTimeout(() => settle(new TimeoutError()), Math.max(0, deadline - Date.now()));

    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      const stale = !responded && outgoing.reusedSocket && STALE_SOCKET_CODES.has(error.code ?? '');
      settle(stale ? new StaleSocketError(error) : error);
    });
    outgoing.on('response', (incoming) => {
      responded = true;
      const chunks: Buffer[] = [];
      let size = 0;
      incoming.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > request.maxResponseBytes) {
          settle(new RelayError('RESPONSE_TOO_LARGE', `the upstream response is larger than ${request.maxResponseBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      incoming.on('end', () => {
        settle(undefined, { status: incoming.statusCode ?? 502, rawHeaders: incoming.rawHeaders, body: Buffer.concat(chunks, size) });
      });
      // After the headers, any failure of the stream means the body we hold is incomplete.
      const truncated = () => Object.assign(new Error('the upstream closed the connection before the response was complete'), { code: 'TRUNCATED' });
      incoming.on('error', () => settle(truncated()));
      incoming.on('close', () => {
        if (!incoming.complete) settle(truncated());
      });
    });
    outgoing.end(request.body);
  });
}

function toRelayError(error: unknown, request: UpstreamRequest): RelayError {
  if (error instanceof RelayError) return error;
  if (error instanceof TimeoutError) {
    return new RelayError('UPSTREAM_TIMEOUT', `the upstream did not answer completely within ${request.timeoutMs} ms`);
  }
  const cause = error instanceof StaleSocketError ? error.original : (error as NodeJS.ErrnoException);
  return new RelayError('UPSTREAM_UNREACHABLE', describe(cause));
}

function describe(error: NodeJS.ErrnoException): string {
  const code = error.code ?? 'UNKNOWN';
  switch (code) {
    case 'ECONNREFUSED':
      return 'the upstream refused the connection (ECONNREFUSED)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the upstream host name could not be resolved (${code})`;
    case 'ECONNRESET':
      return 'the upstream reset the connection (ECONNRESET)';
    case 'TRUNCATED':
      return `${error.message} (TRUNCATED)`;
    default:
      // Certificate problems carry codes like DEPTH_ZERO_SELF_SIGNED_CERT or ERR_TLS_CERT_ALTNAME_INVALID.
      if (/CERT|SSL|TLS/.test(code)) return `the upstream's TLS certificate was rejected (${code})`;
      return `the upstream could not be reached (${code})`;
  }
}
