// Named imports only: a default import of a built-in costs every bundle an interop helper.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type AgentOptions as HttpsAgentOptions } from 'node:https';
import type { Socket } from 'node:net';
import type { Upstream } from './config';
import { RelayError } from './errors';
import type { CancelSignal, StreamedBody } from './types';

// The one HTTP client of the relay: node:http/https with keep-alive agents, no dependency. A
// cross-border TLS handshake costs several round trips, so the agents live at module scope and their
// sockets survive between the invocations of a warm function instance.

export interface Agents {
  http: HttpAgent;
  https: HttpsAgent;
}

/**
 * Idle sockets are closed after this: below Node's default server keep-alive timeout (5 s), the most
 * common backend setting, so the relay rarely writes to a socket the server is about to close.
 */
export const IDLE_SOCKET_MS = 4_000;

export const AGENT_OPTIONS = {
  keepAlive: true,
  // Reuse the most recently used socket first: it is the least likely to have been closed upstream.
  scheduling: 'lifo',
  maxSockets: 256,
  // As many idle sockets as busy ones: a lower cap makes a burst of concurrent requests close and
  // reopen connections once it is over, and pay the handshakes again on the next burst.
  maxFreeSockets: 256,
  timeout: IDLE_SOCKET_MS,
} as const;

/** The idle time a server announced for each socket (`Keep-Alive: timeout=N`), in ms. */
const announcedIdle = new WeakMap<object, number>();

// @types/node declares keepSocketAlive as returning void; Node reads its boolean (false: close the socket).
type KeepSocketAlive = (socket: Socket) => boolean;

/**
 * Keeps a socket idle no longer than its server said it would (less a second for the FIN in flight).
 * Node 20 does the same; older runtimes (FC's and SCF's Node 18) ignore the hint, hence our own.
 */
function honourKeepAliveHints<T extends HttpAgent>(agent: T): T {
  const keep = (agent.keepSocketAlive as unknown as KeepSocketAlive).bind(agent);
  const keepWithHint: KeepSocketAlive = (socket) => {
    if (!keep(socket)) return false;
    const announced = announcedIdle.get(socket);
    if (announced === undefined) return true;
    const idle = announced - 1000;
    if (idle <= 0) return false;
    if (idle < IDLE_SOCKET_MS) socket.setTimeout(idle);
    return true;
  };
  agent.keepSocketAlive = keepWithHint as unknown as typeof agent.keepSocketAlive;
  return agent;
}

/** `maxSockets` bounds the connections to the upstream per scheme; calls beyond it wait for one. */
export function createAgents(tls: HttpsAgentOptions = {}, maxSockets: number = AGENT_OPTIONS.maxSockets): Agents {
  const options = { ...AGENT_OPTIONS, maxSockets, maxFreeSockets: maxSockets };
  return {
    http: honourKeepAliveHints(new HttpAgent(options)),
    // Certificate verification stays on: never rejectUnauthorized: false.
    https: honourKeepAliveHints(new HttpsAgent({ ...options, ...tls })),
  };
}

export const defaultAgents: Agents = createAgents();

export interface UpstreamRequest {
  upstream: Upstream;
  /** Path and query, already checked to stay on the upstream (target.ts). */
  path: string;
  method: string;
  headers: OutgoingHttpHeaders;
  body: Buffer | undefined;
  /** Total time allowed until the whole response has arrived. */
  timeoutMs: number;
  maxResponseBytes: number;
  /** The client went away: stop, whatever stage the call is at. */
  signal?: CancelSignal;
  /**
   * Bodies longer than `above` are handed over as a stream instead of being buffered; undefined: always
   * buffer (what event functions need: they return the whole body at once, and their bundles stay
   * without the streaming code).
   */
  streaming?: { above: number; bodies: ServerBodies };
}

export interface UpstreamResponse {
  status: number;
  /** Node's rawHeaders: name, value, name, value, ... in the order received. */
  rawHeaders: string[];
  /** The whole body; empty when it comes as `stream`. */
  body: Buffer;
  stream?: StreamedBody;
}

const EMPTY = Buffer.alloc(0);

/** Errors that mean a kept-alive socket had been closed by the server before we used it. */
const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/**
 * Methods whose repetition has the effect of one request (RFC 9110 9.2.2), so they may be sent again.
 * A relay cannot tell a POST that a server closed the connection on unread from one it acted on before
 * dropping it; for POST the defence against stale sockets is closing them before the server does.
 */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/**
 * Sends the request and buffers the whole response (so a truncated body becomes a clean 502 instead of
 * a half-sent 200), unless `streaming` hands a large body over as it arrives. An idempotent request that fails on a reused socket before a single response byte
 * arrived is sent once more on a new connection: the server had closed that idle connection.
 */
export async function forward(request: UpstreamRequest, agents: Agents = defaultAgents): Promise<UpstreamResponse> {
  const deadline = Date.now() + request.timeoutMs;
  try {
    return await attempt(request, deadline, agents);
  } catch (error) {
    if (!(error instanceof StaleSocketError) || !IDEMPOTENT.has(request.method)) throw toRelayError(error, request);
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

class ClientGoneError extends Error {}

function attempt(request: UpstreamRequest, deadline: number, agents: Agents, freshConnection = false): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    const { upstream, signal } = request;
    if (signal?.aborted) return reject(new ClientGoneError());
    const secure = upstream.protocol === 'https:';
    const sendRequest = secure ? httpsRequest : httpRequest;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    // Bytes the socket had read before this request: unchanged at a failure means no answer had begun.
    let bytesReadBefore: number | undefined;
    const onAbort = () => settle(new ClientGoneError());
    const settle = (error: Error | undefined, response?: UpstreamResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (error) {
        outgoing.destroy();
        reject(error);
      } else resolve(response!);
    };
    const badUpstream = (message: string) => new RelayError('BAD_UPSTREAM', message);

    const outgoing = sendRequest({
      protocol: upstream.protocol,
      hostname: upstream.hostname,
      port: upstream.port,
      method: request.method,
      path: request.path,
      headers: request.headers,
      // A one-off agent guarantees a new connection for the retry; the pooled ones may all be stale.
      agent: freshConnection ? false : secure ? agents.https : agents.http,
    });
    timer = setTimeout(() => settle(new TimeoutError()), Math.max(0, deadline - Date.now()));
    signal?.addEventListener('abort', onAbort);

    outgoing.on('socket', (socket) => {
      bytesReadBefore = socket.bytesRead;
    });
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      const nothingRead = bytesReadBefore !== undefined && outgoing.socket?.bytesRead === bytesReadBefore;
      // reusedSocket is unset for a call that waited in the pool's queue: a socket that has read bytes before is reused too.
      const stale = !freshConnection && (outgoing.reusedSocket || bytesReadBefore! > 0) && nothingRead && STALE_SOCKET_CODES.has(error.code ?? '');
      settle(stale ? new StaleSocketError(error) : error);
    });
    // The relay never asks for an upgrade (Upgrade is hop-by-hop and dropped), so a 101 is the upstream's error.
    outgoing.on('upgrade', (_incoming, socket) => {
      socket.destroy();
      settle(badUpstream('the upstream switched protocols (101) although no upgrade was asked for'));
    });
    outgoing.on('response', (incoming) => {
      const status = incoming.statusCode ?? 0;
      // Informational answers (100, 103) never get here; what does must be a final HTTP status.
      if (status < 200 || status > 599) {
        settle(badUpstream(`the upstream answered with status ${status}, which is not a final HTTP status (200-599)`));
        return;
      }
      const hint = /(?:^|[\s,])timeout=(\d{1,6})/i.exec(String(incoming.headers['keep-alive'] ?? ''));
      if (hint) announcedIdle.set(incoming.socket, Number(hint[1]) * 1000);
      else announcedIdle.delete(incoming.socket);
      const chunks: Buffer[] = [];
      let size = 0;
      // 204 and 304 have no body whatever Content-Length says (a 304 may state the full representation's).
      const declared = status === 204 || status === 304 ? undefined : declaredLength(incoming.headers['content-length']);
      const { streaming } = request;
      const stream = () => {
        let body: StreamedBody;
        try {
          body = streaming!.bodies.streamed(incoming, chunks, size, declared, request);
        } catch (error) {
          return settle(error as Error);
        }
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        incoming.removeListener('data', onData);
        incoming.removeListener('end', onEnd);
        incoming.removeListener('error', onFailure);
        incoming.removeListener('close', onClose);
        incoming.pause();
        settled = true;
        resolve({ status, rawHeaders: incoming.rawHeaders, body: EMPTY, stream: body });
      };
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > request.maxResponseBytes) {
          settle(new RelayError('RESPONSE_TOO_LARGE', `the upstream response is larger than ${request.maxResponseBytes} bytes`));
          return;
        }
        chunks.push(chunk);
        if (streaming && size > streaming.above) stream();
      };
      // One chunk (most small answers) is used as it is. Several are joined once for event functions,
      // which return one body; a server writes them as they are.
      const onEnd = () =>
        settle(
          undefined,
          chunks.length > 1 && streaming
            ? { status, rawHeaders: incoming.rawHeaders, body: EMPTY, stream: streaming.bodies.held(chunks, size) }
            : { status, rawHeaders: incoming.rawHeaders, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) },
        );
      // After the headers, any failure of the stream means the body we hold is incomplete.
      const onFailure = () => settle(truncated());
      const onClose = () => {
        if (!incoming.complete) settle(truncated());
      };
      if (declared !== undefined && declared > request.maxResponseBytes) {
        settle(new RelayError('RESPONSE_TOO_LARGE', `the upstream response (${declared} bytes) is larger than ${request.maxResponseBytes} bytes`));
        return;
      }
      incoming.on('data', onData);
      incoming.on('end', onEnd);
      incoming.on('error', onFailure);
      incoming.on('close', onClose);
      if (streaming && declared !== undefined && declared > streaming.above) stream();
    });
    outgoing.end(request.body);
  });
}

const truncated = () => Object.assign(new Error('the upstream closed the connection before the response was complete'), { code: 'TRUNCATED' });

/** How servers send bodies without holding or joining them (stream.ts); event functions have none. */
export interface ServerBodies {
  /** A body still arriving, whose first `prefix` chunks have been read already. Throws BUSY past the servers' cap. */
  streamed(incoming: IncomingMessage, prefix: Buffer[], prefixBytes: number, declared: number | undefined, limits: { maxResponseBytes: number; timeoutMs: number }): StreamedBody;
  /** A body received whole, in the pieces it came in. */
  held(chunks: Buffer[], size: number): StreamedBody;
}

function declaredLength(value: string | undefined): number | undefined {
  // Any number of digits, as Node's parser takes them: a huge one is simply larger than any limit.
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

function toRelayError(error: unknown, request: UpstreamRequest): RelayError {
  if (error instanceof RelayError) return error;
  if (error instanceof TimeoutError) {
    return new RelayError('UPSTREAM_TIMEOUT', `the upstream did not answer completely within ${request.timeoutMs} ms`);
  }
  if (error instanceof ClientGoneError) return new RelayError('CLIENT_CLOSED', 'the client went away; the upstream call was abandoned');
  const cause = error instanceof StaleSocketError ? error.original : (error as NodeJS.ErrnoException);
  const code = cause.code ?? 'UNKNOWN';
  // Node's parser refused what the upstream sent (a bad status line, header or chunk).
  if (code.startsWith('HPE_')) return new RelayError('BAD_UPSTREAM', `the upstream sent an invalid HTTP response (${code})`);
  return new RelayError('UPSTREAM_UNREACHABLE', describe(code, cause.message));
}

function describe(code: string, message: string): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'the upstream refused the connection (ECONNREFUSED)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the upstream host name could not be resolved (${code})`;
    case 'ECONNRESET':
      return 'the upstream reset the connection (ECONNRESET)';
    case 'TRUNCATED':
      return `${message} (TRUNCATED)`;
    default:
      // Certificate problems carry codes like DEPTH_ZERO_SELF_SIGNED_CERT or ERR_TLS_CERT_ALTNAME_INVALID.
      if (/CERT|SSL|TLS/.test(code)) return `the upstream's TLS certificate was rejected (${code})`;
      return `the upstream could not be reached (${code})`;
  }
}
