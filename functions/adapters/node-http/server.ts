import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { errorResponse, RelayError, type ErrorCode } from '../../core/errors';
import { pickRequestId } from '../../core/headers';
import type { Relay } from '../../core/relay';
import type { RelayResponse } from '../../core/types';
import { nodeHandler, writeResponse, type NodeHandler, type NodeHandlerOptions } from './handler';
import { answerUnexpected, trackRequest } from './safety-net';

// One HTTP server for all five functions, routed by the first path segment (`/get`, `/post`, ...).
// Used by `npm start`, by SCF web functions, and by anyone who runs the relay as a plain Node service.

interface Route {
  relay: Relay;
  handle: NodeHandler;
}

export interface RelayServerOptions extends NodeHandlerOptions {
  /**
   * Aliyun FC custom runtimes: FC calls `GET /pre-stop` before it stops the instance. FC marks its own
   * calls with `x-fc-control-path` (FC 3.0 common request headers, help doc 2513507), which a client cannot
   * send through FC; a client's call through the HTTP trigger arrives marked `/http-invoke` (as captured
   * FC requests show). The hook is answered once this resolves. Unset elsewhere, so a client can never
   * make a server drain.
   * https://www.alibabacloud.com/help/en/functioncompute/fc/lifecycle-hooks-for-function-instances-in-a-custom-runtime
   */
  onPreStop?: (req: http.IncomingMessage) => Promise<unknown>;
  /**
   * RELAY_MAX_BODY_BYTES_INFLIGHT: request bodies this process holds at once, counted by their declared
   * length (a chunked one as the full RELAY_MAX_BODY_BYTES). A call that would pass it gets 503 BUSY
   * before its body is read: 50 calls at once of 6 MB each are 300 MB of bodies, briefly held twice while read.
   */
  maxBodyBytesInFlight?: number;
}

export const DEFAULT_BODY_BYTES_IN_FLIGHT = 128 * 1024 * 1024;

export function createRelayServer(relays: readonly Relay[], options: RelayServerOptions = {}): http.Server {
  const routes = new Map<string, Route>(
    relays.map((relay) => [relay.endpoint.name, { relay, handle: nodeHandler(relay, options) }]),
  );
  // The first segment below RELAY_BASE_PATH names the function (`/relay/get` with RELAY_BASE_PATH=/relay).
  const basePath = relays[0]?.basePath ?? '';
  const routeOf = (req: http.IncomingMessage) => {
    const url = req.url ?? '/';
    if (basePath !== '' && url !== basePath && !url.startsWith(`${basePath}/`) && !url.startsWith(`${basePath}?`)) return undefined;
    return routes.get(url.slice(basePath.length).split(/[/?]/)[1] ?? '');
  };
  // Refusals that reach no function are logged through the first relay, like every other answer.
  const refuse = (error: RelayError, method: string): RelayResponse =>
    relays[0] ? relays[0].reject(error, method) : errorResponse(error, randomUUID());

  // RELAY_MAX_INFLIGHT (the same for all relays of one configuration): beyond it, answer 503 at once
  // rather than queue without bound in one instance. A slot is held until the upstream call has ended,
  // not merely until the client has gone.
  const maxInflight = relays[0]?.maxInflight;
  let inflight = 0;
  const bodyBudget = options.maxBodyBytesInFlight ?? DEFAULT_BODY_BYTES_IN_FLIGHT;
  let bodyBytes = 0;
  /** The request in progress on each connection: a parse error after it cannot be answered in order. */
  const busy = new WeakMap<object, http.IncomingMessage>();

  const dispatch = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const route = routeOf(req);
    if (route && maxInflight !== undefined && inflight >= maxInflight) {
      req.resume();
      return writeResponse(res, refuse(new RelayError('BUSY', `the relay is handling ${maxInflight} requests already; retry shortly`, { 'retry-after': '1' }), req.method ?? '-'));
    }
    // Bodies are held whole until the upstream call ends: reserve what this one may bring.
    const declared = Number(req.headers['content-length']);
    const reserve = !route ? 0 : declared >= 0 ? Math.min(declared, route.relay.maxBodyBytes + 1) : req.headers['transfer-encoding'] ? route.relay.maxBodyBytes : 0;
    if (reserve > 0 && bodyBytes + reserve > bodyBudget) {
      req.resume();
      res.shouldKeepAlive = false;
      return writeResponse(res, refuse(new RelayError('BUSY', `the relay holds ${bodyBytes} bytes of request bodies already; retry shortly`, { 'retry-after': '1' }), req.method ?? '-'));
    }
    if (route) {
      const requestId = pickRequestId(req.headers, randomUUID);
      bodyBytes += reserve;
      // The slot is given back once the upstream call has ended and the answer is delivered (or the
      // connection gone): a client that never reads its download keeps holding it.
      let holds = 2;
      if (maxInflight !== undefined) inflight++;
      const release = () => {
        if (--holds > 0) return;
        if (maxInflight !== undefined) inflight--;
        bodyBytes -= reserve;
      };
      busy.set(req.socket, req);
      const scope = { requestId, res };
      const untrack = trackRequest(scope);
      res.once('close', () => {
        busy.delete(req.socket);
        untrack();
        release();
      });
      route.handle(req, res, requestId).then(release, (error: unknown) => {
        release();
        // Every known failure is answered inside the handler; this one was not foreseen.
        answerUnexpected('handlerRejected', error, scope);
      });
      return;
    }
    const control = req.headers['x-fc-control-path'];
    if (options.onPreStop && req.method === 'GET' && req.url === '/pre-stop' && typeof control === 'string' && control !== '/http-invoke') {
      req.resume();
      void options.onPreStop(req).then(() => {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end('{"ok":true}');
      });
      return;
    }
    // For the platforms' probes (FC's healthCheckConfig): answered here, never by the upstream.
    if (req.url === '/healthz' || req.url?.startsWith('/healthz?')) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      return res.end('{"ok":true}');
    }
    req.resume();
    const known = [...routes.keys()].map((name) => `${basePath}/${name}`).join(', ');
    writeResponse(res, refuse(new RelayError('NOT_FOUND', `no relay function here; use ${known}`), req.method ?? '-'));
  };

  // Host is not needed to route here; without this Node answers a request lacking it with a bare 400.
  const server = http.createServer({ requireHostHeader: false }, dispatch);
  // `Expect: 100-continue` (curl sends it for large uploads): refuse an oversized body before it is sent.
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const route = routeOf(req);
    if (!route || !(Number(req.headers['content-length']) > route.relay.maxBodyBytes)) res.writeContinue();
    dispatch(req, res);
  });
  // Any other expectation: Node would answer a bare 417; ours says so in the relay's format.
  server.on('checkExpectation', (req: http.IncomingMessage, res: http.ServerResponse) => {
    req.resume();
    res.shouldKeepAlive = false;
    writeResponse(res, refuse(new RelayError('EXPECTATION_FAILED', 'only "Expect: 100-continue" is supported'), req.method ?? '-'));
  });
  // Requests Node's parser refuses never reach a handler; they get the relay's JSON error too.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // Garbage pipelined behind a request whose body has all arrived: an answer now would be read as
    // that request's, so the connection is closed instead (the request is abandoned like any cut-off
    // one). A broken body of the request itself is still answered.
    if (!socket.writable || error.code === 'ECONNRESET' || busy.get(socket)?.complete) return void socket.destroy();
    const [code, message] = protocolError(error);
    socket.end(rawResponse(refuse(new RelayError(code, message), '-')));
  });
  // CONNECT asks for a tunnel, which a relay to one backend never offers.
  server.on('connect', (req: http.IncomingMessage, socket: Duplex) => {
    socket.on('error', () => undefined);
    socket.end(rawResponse(refuse(new RelayError('METHOD_NOT_ALLOWED', 'CONNECT is not supported: this is not an open proxy', { allow: 'GET, POST, PUT, DELETE' }), req.method ?? 'CONNECT')));
  });
  return server;
}

function protocolError(error: NodeJS.ErrnoException): [ErrorCode, string] {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return ['HEADERS_TOO_LARGE', 'the request line or headers are too large'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return ['REQUEST_TIMEOUT', 'the request did not arrive in time'];
    default:
      return ['BAD_REQUEST', `the request is not valid HTTP (${error.code ?? 'parse error'})`];
  }
}

/** A whole HTTP/1.1 response as bytes, for a socket that has no ServerResponse (the request never parsed). */
function rawResponse(response: RelayResponse): Buffer {
  const lines = [`HTTP/1.1 ${response.status} ${http.STATUS_CODES[response.status] ?? 'Error'}`];
  for (const name of Object.keys(response.headers)) {
    for (const value of [response.headers[name]!].flat()) lines.push(`${name}: ${value}`);
  }
  lines.push('connection: close');
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), response.body]);
}
