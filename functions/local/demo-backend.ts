import http from 'node:http';
import type { AddressInfo } from 'node:net';

// A tiny backend for `npm start` without UPSTREAM_URL, so a newcomer can watch the relay work at once.
// Its own errors are plain JSON without `x-relay-error`, as a real backend's would be.

/** A 32x32 green dot. */
const LOGO_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAIAAAD8GO2jAAAAaElEQVR42u3WQQ4AEAxE0dm5pqs6GVtBRWJMVIj1fyta5MMHVwAhxeElAFZ6ncFOeoUBpT4xwKpbBoj1oQFuvTeEAKveGCqAW6+ND3zAD+D/JT/xmyoGjmJkKoa+Ym1RLF6i1dHBdl0Aa6mL4ouQObwAAAAASUVORK5CYII=',
  'base64',
);

const USERS = [
  { id: 1, name: '张三' },
  { id: 2, name: 'Li Si' },
];

export interface DemoBackend {
  url: string;
  /** The server, so a check can count the connections the relay holds to it. */
  server: http.Server;
  close(): Promise<void>;
}

/** `latencyMs`: each answer waits this long, as a backend across a border does (tests and checks). */
export function startDemoBackend(host = '127.0.0.1', latencyMs = 0): Promise<DemoBackend> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => (latencyMs > 0 ? setTimeout(answer, latencyMs, req, res, Buffer.concat(chunks)) : answer(req, res, Buffer.concat(chunks))));
  });
  return new Promise((resolve) => {
    server.listen(0, host, () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://${host}:${port}`,
        server,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

function answer(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
  const url = new URL(req.url ?? '/', 'http://demo');
  const json = (status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(value));
  };
  if (url.pathname === '/api/users') return json(200, { page: Number(url.searchParams.get('page') ?? 1), users: USERS });
  // One user: says which method it was asked for, X-HTTP-Method-Override read as Laravel reads it.
  const user = /^\/api\/users\/(\d+)$/.exec(url.pathname);
  if (user) {
    const override = req.method === 'POST' ? req.headers['x-http-method-override'] : undefined;
    return json(200, { method: typeof override === 'string' ? override.toUpperCase() : req.method, id: Number(user[1]), body: body.toString('utf8') });
  }
  if (url.pathname === '/api/echo') {
    return json(200, {
      method: req.method,
      path: url.pathname,
      query: url.search.slice(1),
      headers: req.headers,
      body: body.toString('utf8'),
    });
  }
  if (url.pathname === '/img/logo.png') {
    res.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'max-age=60' });
    return void res.end(LOGO_PNG);
  }
  const status = /^\/status\/(\d{3})$/.exec(url.pathname);
  if (status) return json(Number(status[1]), { status: Number(status[1]) });
  json(404, { message: 'Not Found (answered by the demo backend, not the relay)' });
}
