import https from 'node:https';
import type net from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { send, startRelay, startUpstream, type RunningRelay, type Upstream } from './helpers/servers';

// Faults injected by real loopback upstreams, many rounds against one relay: each gives its documented
// status, the relay keeps serving, and afterwards nothing is left behind: no sockets, no pending
// requests in the agents, and the heap back near where it started.

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const ROUNDS = 20;
const TLS = path.join(__dirname, 'fixtures', 'tls');

/** Sockets and servers open in this process, by kind. */
function openHandles(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap' || kind === 'TLSWrap').length;
}

function settledHeap(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

let upstream: Upstream;
let held: net.Socket[] = [];

beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    const socket = req.socket;
    switch (req.url) {
      case '/reset-before':
        return void socket.destroy();
      case '/reset-mid':
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '100000' });
        res.write(Buffer.alloc(1000));
        return void setTimeout(() => socket.destroy(), 5);
      case '/no-headers':
        held.push(socket);
        return;
      case '/stall-body':
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
        res.write('partial');
        held.push(socket);
        return;
      case '/stale':
        // Answers with keep-alive, then closes the idle socket behind the relay's back.
        res.on('finish', () => setTimeout(() => socket.destroy(), 20));
        res.writeHead(200, { 'content-type': 'application/json', connection: 'keep-alive' });
        return void res.end('{"stale":false}');
      default:
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
    }
  });
});
afterAll(() => upstream.close());

test(`${ROUNDS} rounds of every fault: documented statuses, still serving, nothing leaks`, async () => {
  // 300 ms: long enough that a loaded CI machine never turns the 5 ms mid-body reset into a timeout.
  const relay: RunningRelay = await startRelay({ UPSTREAM_URL: upstream.url, RELAY_TIMEOUT_MS: '300', RELAY_LOG: '0' });
  const refused = await startRelay({ UPSTREAM_URL: 'http://127.0.0.1:9', RELAY_LOG: '0' });
  const tlsUpstream = https.createServer({ key: readFileSync(path.join(TLS, 'key.pem')), cert: readFileSync(path.join(TLS, 'cert.pem')) }, (_req, res) => res.end('{}'));
  await new Promise<void>((resolve) => tlsUpstream.listen(0, '127.0.0.1', resolve));
  const selfSigned = await startRelay({ UPSTREAM_URL: `https://127.0.0.1:${(tlsUpstream.address() as net.AddressInfo).port}`, RELAY_LOG: '0' });

  const statusOf = async (base: string, target: string) => {
    const reply = await send(base, target);
    return `${reply.status} ${reply.headers['x-relay-error'] ?? ''}`.trim();
  };
  const faults: [string, string, string][] = [
    [refused.url, '/get?method=x', '502 UPSTREAM_UNREACHABLE'],
    [relay.url, '/get?method=reset-before', '502 UPSTREAM_UNREACHABLE'],
    [relay.url, '/get?method=reset-mid', '502 UPSTREAM_UNREACHABLE'],
    [relay.url, '/get?method=no-headers', '504 UPSTREAM_TIMEOUT'],
    [relay.url, '/get?method=stall-body', '504 UPSTREAM_TIMEOUT'],
    [selfSigned.url, '/get?method=x', '502 UPSTREAM_UNREACHABLE'],
    [relay.url, '/get?method=stale', '200'],
  ];

  try {
    // Warm up, so the baseline includes what the first requests allocate once (agents, modules).
    for (const [base, target] of faults) await statusOf(base, target);
    await statusOf(relay.url, '/get?method=ok');
    held.forEach((socket) => socket.destroy());
    held = [];
    await new Promise((resolve) => setTimeout(resolve, 100));
    const heapBefore = settledHeap();

    for (let round = 0; round < ROUNDS; round++) {
      const seen = await Promise.all(faults.map(([base, target]) => statusOf(base, target)));
      expect(seen).toEqual(faults.map(([, , expected]) => expected));
      // The stale socket's close lands between rounds, so the next round's GET meets it.
      await new Promise((resolve) => setTimeout(resolve, 30));
      held.forEach((socket) => socket.destroy());
      held = [];
    }
    expect(await statusOf(relay.url, '/get?method=ok')).toBe('200');

    // Nothing in flight or pooled toward a dead peer; sockets and heap back to baseline.
    held.forEach((socket) => socket.destroy());
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const agents of [relay.agents, refused.agents, selfSigned.agents]) {
      for (const agent of [agents.http, agents.https]) {
        expect(Object.keys(agent.requests)).toEqual([]);
        expect(Object.values(agent.sockets).flat()).toEqual([]);
      }
    }
    const growth = settledHeap() - heapBefore;
    expect(growth).toBeLessThan(8 * 1024 * 1024);
  } finally {
    await relay.close();
    await refused.close();
    await selfSigned.close();
    await new Promise<void>((resolve) => tlsUpstream.close(() => resolve()));
  }
  // Only the shared upstream's listening socket (and jest's own) remain; no client socket lingers.
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(openHandles()).toBeLessThanOrEqual(1);
});
