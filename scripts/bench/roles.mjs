// The processes a benchmark run starts, one role each, so every proxy's CPU can be read on its own
// (the bare node:http forwarder, the baseline, is bare-forwarder.mjs):
//   node roles.mjs upstream [--tls]                a backend: small JSON, an echo, 100 KB and 3 MB images
//   node roles.mjs forward-got <upstream>          a forwarder written with got, the client the project began with
//   node roles.mjs delay-hop <port> <ms> [loss]    a TCP hop adding <ms> each way (a cross-border link),
//                                                  treating a share of its chunks as lost (0.02 = 2%) if asked
// Each prints "listening <port>" once ready. The forwarders take the relay's path style: /get/<api path>.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { seeded } from '../seeded-random.mjs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BARE_AGENT_OPTIONS } from './bare-forwarder.mjs';

const TLS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'tls');
const [role, ...args] = process.argv.slice(2);
const ready = (server) => server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));

function upstream(tls) {
  const small = Buffer.from(JSON.stringify({ id: 1, name: '张三', tags: ['a', 'b'], ok: true }));
  const image100k = randomBytes(100 * 1024);
  const image3m = randomBytes(3 * 1024 * 1024);
  const handler = (req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url.startsWith('/img/100k')) return res.writeHead(200, { 'content-type': 'image/png', 'content-length': image100k.length }).end(image100k);
      if (req.url.startsWith('/img/3m')) return res.writeHead(200, { 'content-type': 'image/png', 'content-length': image3m.length }).end(image3m);
      // Content-Length set, as frameworks (Express, Laravel) do for bodies they hold whole.
      const body = req.method === 'POST' ? Buffer.concat(chunks) : small;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body);
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

async function forwardGot(base) {
  const { default: got } = await import('got');
  const client = got.extend({
    prefixUrl: base,
    throwHttpErrors: false,
    followRedirect: false,
    decompress: false,
    retry: { limit: 0 },
    responseType: 'buffer',
    agent: { http: new http.Agent(BARE_AGENT_OPTIONS), https: new https.Agent(BARE_AGENT_OPTIONS) },
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

function delayHop(port, ms, loss = 0) {
  // Every byte takes `ms` to cross, each way. A new connection also pays the TCP handshake's round trip
  // before its first byte can leave, which a hop that accepts locally would otherwise hide. With `loss`,
  // that share of the chunks is "lost" and arrives one retransmission timeout late (Linux's minimum RTO,
  // 200 ms, or two round trips if longer), holding back what follows it, as TCP does.
  const random = seeded(1);
  const rto = Math.max(200, 4 * ms);
  const server = net.createServer({ noDelay: true }, (socket) => {
    const onward = net.connect({ port: Number(port), host: '127.0.0.1', noDelay: true });
    // The last moment anything is due to arrive, either way: a close must not overtake a late chunk.
    let lastDelivery = 0;
    const delayed = (from, to, firstExtra) => {
      let extra = firstExtra;
      let previous = 0;
      from.on('data', (chunk) => {
        let at = Math.max(Date.now() + ms + extra, previous);
        if (loss > 0 && random() < loss) at += rto;
        previous = at;
        lastDelivery = Math.max(lastDelivery, at);
        setTimeout(() => to.destroyed || to.write(chunk), at - Date.now());
        extra = 0;
      });
    };
    delayed(socket, onward, 2 * ms);
    delayed(onward, socket, 0);
    const close = () => setTimeout(() => (socket.destroy(), onward.destroy()), Math.max(ms, lastDelivery - Date.now() + 1));
    socket.on('close', close).on('error', close);
    onward.on('close', close).on('error', close);
  });
  ready(server);
}

if (role === 'upstream') upstream(args.includes('--tls'));
else if (role === 'forward-got') await forwardGot(args[0]);
else if (role === 'delay-hop') delayHop(args[0], Number(args[1]), Number(args[2] ?? 0));
else {
  console.error(`unknown role ${role}`);
  process.exit(2);
}
