// The baseline every relay figure is compared with: the least a Node forwarder must do to pass a request
// on in the relay's path style (`/get/api/x?q` -> `/api/x?q`), with none of the relay's checks, logs or
// limits. It is kept correct, so the comparison is fair:
//   - the same keep-alive agent settings as the relay (functions/core/forward.ts; a test compares them);
//   - a client that goes away takes its upstream request with it (no socket left behind);
//   - a failed upstream is a 502, a failed body an aborted answer.
//
//   node bare-forwarder.mjs <upstream origin> [--fresh]   prints "listening <port>"
// --fresh opens a new connection per request, as the original PHP proxy did.
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Must equal AGENT_OPTIONS in functions/core/forward.ts. */
export const BARE_AGENT_OPTIONS = { keepAlive: true, scheduling: 'lifo', maxSockets: 256, maxFreeSockets: 256, timeout: 4_000 };

const TEST_CA = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'tls', 'cert.pem');

/** `/get/api/x?q` -> `/api/x?q`. */
const upstreamPath = (url) => url.replace(/^\/[^/?]+/, '') || '/';

export function createBareForwarder(base, { fresh = false } = {}) {
  const target = new URL(base);
  const secure = target.protocol === 'https:';
  const client = secure ? https : http;
  const agent = fresh ? false : new client.Agent({ ...BARE_AGENT_OPTIONS, ...(secure ? { ca: readFileSync(TEST_CA) } : {}) });
  const server = http.createServer((req, res) => {
    const headers = { ...req.headers, host: target.host };
    delete headers.connection;
    const outgoing = client.request(
      { hostname: target.hostname, port: target.port, path: upstreamPath(req.url), method: req.method, headers, agent, ...(fresh && secure ? { ca: readFileSync(TEST_CA) } : {}) },
      (incoming) => {
        res.writeHead(incoming.statusCode, incoming.headers);
        incoming.pipe(res);
        incoming.on('error', () => res.destroy());
      },
    );
    outgoing.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    res.on('close', () => {
      if (!res.writableFinished) outgoing.destroy();
    });
    req.pipe(outgoing);
  });
  server.keepAliveTimeout = 60_000;
  return { server, agent };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { server } = createBareForwarder(process.argv[2], { fresh: process.argv.includes('--fresh') });
  server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
  // An orderly exit, so `node --cpu-prof` can write its profile (npm run bench's profile section).
  process.once('SIGINT', () => process.exit(0));
}
