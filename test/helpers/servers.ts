import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { loadConfig, type Env } from '../../functions/core/config';
import { ENDPOINTS } from '../../functions/core/endpoints';
import { createAgents, type Agents } from '../../functions/core/forward';
import { createRelay } from '../../functions/core/relay';
import { serverBodies } from '../../functions/core/stream';
import type { ServerBodies } from '../../functions/core/forward';
import { createRelayServer } from '../../functions/adapters/node-http/server';

// Real servers on 127.0.0.1 with port 0, and a plain node:http client that neither decompresses
// nor follows redirects, so tests see exactly the bytes that crossed the wire.

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

export interface Upstream {
  url: string;
  port: number;
  requests: Recorded[];
  /** Number of TCP connections accepted. */
  connections(): number;
  close(): Promise<void>;
}

type UpstreamHandler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;

/** An HTTP upstream that records every request (with its full body) before the handler answers. */
export function startUpstream(handler: UpstreamHandler, tls?: { key: string | Buffer; cert: string | Buffer }): Promise<Upstream> {
  const requests: Recorded[] = [];
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, body });
      handler(req, res, body);
    });
  };
  const server = tls ? https.createServer(tls, onRequest) : http.createServer(onRequest);
  return listen(server, tls ? 'https' : 'http', requests);
}

/** A TCP server that speaks whatever the test writes: for resets, truncation and stale sockets. */
export function startRawUpstream(onConnection: (socket: net.Socket, index: number) => void): Promise<Upstream> {
  let index = 0;
  const server = net.createServer((socket) => onConnection(socket, index++));
  return listen(server, 'http', []);
}

function listen(server: net.Server, scheme: string, requests: Recorded[]): Promise<Upstream> {
  let connections = 0;
  server.on(server instanceof https.Server ? 'secureConnection' : 'connection', () => connections++);
  return listenOnLoopback(server).then(({ port, close }) => ({
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    requests,
    connections: () => connections,
    close,
  }));
}

/** Listens on 127.0.0.1 with a free port; `close` also ends open connections, so tests never hang. */
function listenOnLoopback(server: net.Server): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

export interface RunningRelay {
  url: string;
  logs: string[];
  agents: Agents;
  close(): Promise<void>;
}

/** The real relay: all four functions behind the Node adapter's server, configured from `env`. */
export function startRelay(env: Env, options: { tlsCa?: string | Buffer; streaming?: ServerBodies } = {}): Promise<RunningRelay> {
  const logs: string[] = [];
  // Fresh agents per relay, so one test's pooled sockets never serve another's; the relay's own
  // settings (idle time, Keep-Alive hints), so tests see what production does.
  const agents: Agents = createAgents({ ca: options.tlsCa });
  const config = loadConfig(env);
  const relays = Object.values(ENDPOINTS).map((endpoint) => createRelay(endpoint, config, { agents, log: (line) => logs.push(line), streaming: options.streaming ?? serverBodies }));
  return listenOnLoopback(createRelayServer(relays)).then(({ port, close }) => ({
    url: `http://127.0.0.1:${port}`,
    logs,
    agents,
    close: () => {
      agents.http.destroy();
      agents.https.destroy();
      return close();
    },
  }));
}

/**
 * An upstream with `handler` and a relay pointed at it (plus `path`, a base path), started before the
 * file's tests and closed after them. Fields are filled in by `beforeAll`.
 */
export function useRelay(handler: UpstreamHandler, path = ''): { upstream: Upstream; relay: RunningRelay } {
  const context = {} as { upstream: Upstream; relay: RunningRelay };
  beforeAll(async () => {
    context.upstream = await startUpstream(handler);
    context.relay = await startRelay({ UPSTREAM_URL: `${context.upstream.url}${path}` });
  });
  afterAll(async () => {
    await context.relay.close();
    await context.upstream.close();
  });
  return context;
}

/** A TCP front for `target` (a relay's URL) that cuts the first `drops` connections before any answer. */
export async function startFlakyFront(target: string, drops: number): Promise<{ url: string; connections(): number; close(): Promise<void> }> {
  let connections = 0;
  const { hostname, port } = new URL(target);
  const server = net.createServer((socket) => {
    connections++;
    if (connections <= drops) return void socket.destroy();
    const onward = net.connect(Number(port), hostname);
    socket.pipe(onward).pipe(socket);
    onward.on('error', () => socket.destroy());
    socket.on('error', () => onward.destroy());
  });
  const { port: frontPort, close } = await listenOnLoopback(server);
  return { url: `http://127.0.0.1:${frontPort}`, connections: () => connections, close };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  text: string;
  json<T = any>(): T;
}

export interface SendOptions {
  method?: string;
  headers?: http.OutgoingHttpHeaders;
  body?: string | Buffer;
  /** Write the body in pieces without a Content-Length (chunked). */
  chunks?: Buffer[];
}

/** One request on a new connection; the path is sent exactly as given (no normalisation). */
export function send(base: string, path: string, options: SendOptions = {}): Promise<Reply> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path, method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          body,
          text: body.toString('utf8'),
          json: () => JSON.parse(body.toString('utf8')),
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.chunks) {
      for (const chunk of options.chunks) req.write(chunk);
      req.end();
    } else req.end(options.body);
  });
}

/** Upstream handler that answers with what it received, as JSON. */
export const echo: UpstreamHandler = (req, res, body) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: body.toString('utf8') }));
};

/** Writes `head` (request line and headers, CRLF-separated, no final blank line) as is; resolves with the raw answer when the server closes. */
export function sendRaw(base: string, head: string, body = ''): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    // Not end(): a half-closed request makes Node drop it. Send `Connection: close` so the answer ends.
    const socket = net.connect(Number(port), hostname, () => socket.write(`${head}\r\n\r\n${body}`));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
  });
}
