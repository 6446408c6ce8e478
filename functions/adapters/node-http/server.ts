import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { errorResponse, RelayError } from '../../core/errors';
import type { Relay } from '../../core/relay';
import { nodeHandler, writeResponse, type NodeHandler, type NodeHandlerOptions } from './handler';

// One HTTP server for all four functions, routed by the first path segment (`/get`, `/post`, ...).
// Used by `npm start`, and by anyone who runs the relay as a plain Node service.

interface Route {
  relay: Relay;
  handle: NodeHandler;
}

export function createRelayServer(relays: readonly Relay[], options: NodeHandlerOptions = {}): http.Server {
  const routes = new Map<string, Route>(
    relays.map((relay) => [relay.endpoint.name, { relay, handle: nodeHandler(relay, options) }]),
  );
  const routeOf = (req: http.IncomingMessage) => routes.get((req.url ?? '/').split(/[/?]/)[1] ?? '');

  // RELAY_MAX_INFLIGHT (the same for all relays of one configuration): beyond it, answer 503 at once
  // rather than queue without bound in one instance.
  const maxInflight = relays[0]?.maxInflight;
  let inflight = 0;

  const dispatch = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const route = routeOf(req);
    if (route && maxInflight !== undefined && inflight >= maxInflight) {
      req.resume();
      const busy = new RelayError('BUSY', `the relay is handling ${maxInflight} requests already; retry shortly`, { 'retry-after': '1' });
      return writeResponse(res, errorResponse(busy, randomUUID()));
    }
    if (route) {
      if (maxInflight !== undefined) {
        inflight++;
        res.once('close', () => inflight--);
      }
      return route.handle(req, res);
    }
    if (req.url === '/healthz' || req.url?.startsWith('/healthz?')) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      return res.end('{"ok":true}');
    }
    req.resume();
    const known = [...routes.keys()].map((name) => `/${name}`).join(', ');
    writeResponse(res, errorResponse(new RelayError('NOT_FOUND', `no relay function here; use ${known}`), randomUUID()));
  };

  const server = http.createServer(dispatch);
  // `Expect: 100-continue` (curl sends it for large uploads): refuse an oversized body before it is sent.
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const route = routeOf(req);
    if (!route || !(Number(req.headers['content-length']) > route.relay.maxBodyBytes)) res.writeContinue();
    dispatch(req, res);
  });
  return server;
}
