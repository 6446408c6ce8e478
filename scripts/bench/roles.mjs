// The processes a benchmark run starts, one role each, so every proxy's CPU can be read on its own:
//   node roles.mjs upstream [--tls]                a backend: small JSON, an echo, a 100 KB and a 5 MB image
//   node roles.mjs forward-node <upstream>         bare node:http forwarder with a keep-alive agent
//   node roles.mjs forward-got <upstream>          the same with got
//   node roles.mjs forward-fresh <upstream>        a new connection per request, as the original PHP proxy
//   node roles.mjs delay-hop <port> <ms>           a TCP hop adding <ms> each way (a cross-border link)
// Each prints "listening <port>" once ready. The forwarders take the relay's path style: /get/<api path>.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TLS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'tls');
const [role, ...args] = process.argv.slice(2);
const ready = (server) => server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));

function upstream(tls) {
  const small = Buffer.from(JSON.stringify({ id: 1, name: '张三', tags: ['a', 'b'], ok: true }));
  const image100k = randomBytes(100 * 1024);
  const image5m = randomBytes(5 * 1024 * 1024);
  const handler = (req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url.startsWith('/img/100k')) return res.writeHead(200, { 'content-type': 'image/png' }).end(image100k);
      if (req.url.startsWith('/img/5m')) return res.writeHead(200, { 'content-type': 'image/png' }).end(image5m);
      if (req.method === 'POST') return res.writeHead(200, { 'content-type': 'application/json' }).end(Buffer.concat(chunks));
      res.writeHead(200, { 'content-type': 'application/json' }).end(small);
    });
  };
  const server = tls
    ? https.createServer({ key: readFileSync(path.join(TLS_DIR, 'key.pem')), cert: readFileSync(path.join(TLS_DIR, 'cert.pem')) }, handler)
    : http.createServer(handler);
  server.keepAliveTimeout = 60_000;
  ready(server);
}

/** `/get/api/x?q` -> `/api/x?q`: the relay's path style without any of its checks. */
const upstreamPath = (url) => url.replace(/^\/[^/?]+/, '') || '/';

function forwardNode(base, fresh) {
  const target = new URL(base);
  const client = target.protocol === 'https:' ? https : http;
  const agent = fresh ? false : new client.Agent({ keepAlive: true, maxSockets: 256 });
  const ca = target.protocol === 'https:' ? readFileSync(path.join(TLS_DIR, 'cert.pem')) : undefined;
  const server = http.createServer((req, res) => {
    const headers = { ...req.headers, host: target.host };
    delete headers.connection;
    const outgoing = client.request({ hostname: target.hostname, port: target.port, path: upstreamPath(req.url), method: req.method, headers, agent, ca }, (incoming) => {
      res.writeHead(incoming.statusCode, incoming.headers);
      incoming.pipe(res);
    });
    outgoing.on('error', () => res.writeHead(502).end());
    req.pipe(outgoing);
  });
  server.keepAliveTimeout = 60_000;
  ready(server);
}

async function forwardGot(base) {
  const { default: got } = await import('got');
  const client = got.extend({
    prefixUrl: base,
    throwHttpErrors: false,
    followRedirect: false,
    decompress: false,
    retry: { limit: 0 },
    responseType: 'buffer',
    agent: { http: new http.Agent({ keepAlive: true, maxSockets: 256 }), https: new https.Agent({ keepAlive: true, maxSockets: 256 }) },
  });
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', async () => {
      try {
        const body = chunks.length ? Buffer.concat(chunks) : undefined;
        const answer = await client(upstreamPath(req.url).slice(1), { method: req.method, body, headers: { 'content-type': req.headers['content-type'] } });
        res.writeHead(answer.statusCode, { 'content-type': answer.headers['content-type'], 'content-length': answer.rawBody.length }).end(answer.rawBody);
      } catch {
        res.writeHead(502).end();
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  ready(server);
}

function delayHop(port, ms) {
  // Every byte takes `ms` to cross, each way. A new connection also pays the TCP handshake's round trip
  // before its first byte can leave, which a hop that accepts locally would otherwise hide.
  const delayed = (from, to, firstExtra) => {
    let extra = firstExtra;
    from.on('data', (chunk) => {
      setTimeout(() => to.destroyed || to.write(chunk), ms + extra);
      extra = 0;
    });
  };
  const server = net.createServer({ noDelay: true }, (socket) => {
    const onward = net.connect({ port: Number(port), host: '127.0.0.1', noDelay: true });
    delayed(socket, onward, 2 * ms);
    delayed(onward, socket, 0);
    const close = () => setTimeout(() => (socket.destroy(), onward.destroy()), ms);
    socket.on('close', close).on('error', close);
    onward.on('close', close).on('error', close);
  });
  ready(server);
}

if (role === 'upstream') upstream(args.includes('--tls'));
else if (role === 'forward-node') forwardNode(args[0], false);
else if (role === 'forward-fresh') forwardNode(args[0], true);
else if (role === 'forward-got') await forwardGot(args[0]);
else if (role === 'delay-hop') delayHop(args[0], Number(args[1]));
else {
  console.error(`unknown role ${role}`);
  process.exit(2);
}
