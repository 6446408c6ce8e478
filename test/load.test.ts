import http from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';
import { startRelay, startUpstream } from './helpers/servers';

// A bounded load test on loopback: 10,000 mixed GET/POST/PUT at 64 concurrent through the local
// server, with 1% of upstream calls failing (the upstream drops the connection without answering).
// Every answer must be the upstream's or the documented 502; no request may be lost or duplicated
// upstream (a failed GET or PUT may be sent twice: the documented one retry of idempotent methods on a
// dropped keep-alive socket);
// and the heap must stay flat. It stops by itself: a fixed number of requests, a time limit.

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const TOTAL = 10_000;
const CONCURRENCY = 64;
const failing = (n: number) => n % 100 === 37;
const methodOf = (n: number) => (['GET', 'POST', 'PUT'] as const)[n % 3]!;

test(`${TOTAL} mixed requests at ${CONCURRENCY} concurrent, 1% of upstream calls failing`, async () => {
  const seen = new Map<number, number>();
  const upstream = await startUpstream((req, res, body) => {
    const url = new URL(req.url ?? '/', 'http://upstream');
    const n = Number(url.searchParams.get('n') ?? JSON.parse(body.toString() || '{}').n);
    seen.set(n, (seen.get(n) ?? 0) + 1);
    if (failing(n)) return void req.socket.destroy();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ n, method: req.method }));
  });
  const relay = await startRelay({ UPSTREAM_URL: upstream.url, RELAY_LOG: '0' });
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const { port } = new URL(relay.url);

  const request = (n: number) =>
    new Promise<{ n: number; status: number; code: string | undefined; body: string }>((resolve, reject) => {
      const method = methodOf(n);
      const target = method === 'POST' ? `/post?n=${n}` : `/${method.toLowerCase()}?method=api/item&n=${n}`;
      const body = method === 'GET' ? undefined : method === 'POST' ? JSON.stringify({ method: 'api/item', n }) : JSON.stringify({ value: n });
      const req = http.request({ host: '127.0.0.1', port, path: target, method, agent, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ n, status: res.statusCode ?? 0, code: res.headers['x-relay-error'] as string | undefined, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });

  const answers: Awaited<ReturnType<typeof request>>[] = [];
  let next = 0;
  let heapAtStart = 0;
  const worker = async () => {
    while (next < TOTAL) {
      const n = next++;
      if (n === 2_000) {
        gc();
        heapAtStart = process.memoryUsage().heapUsed;
      }
      answers.push(await request(n));
    }
  };
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    gc();
    const heapGrowth = process.memoryUsage().heapUsed - heapAtStart;

    expect(answers).toHaveLength(TOTAL);
    const unexpected = answers.filter((answer) =>
      failing(answer.n)
        ? !(answer.status === 502 && answer.code === 'UPSTREAM_UNREACHABLE')
        : !(answer.status === 200 && answer.code === undefined && JSON.parse(answer.body).n === answer.n && JSON.parse(answer.body).method === methodOf(answer.n)),
    );
    expect(unexpected.slice(0, 5)).toEqual([]);

    // Upstream counts: every request arrived, once; only a failed GET may have been retried once.
    const wrongCounts = Array.from({ length: TOTAL }, (_, n) => [n, seen.get(n) ?? 0] as const).filter(([n, count]) =>
      failing(n) && methodOf(n) !== 'POST' ? count < 1 || count > 2 : count !== 1,
    );
    expect(wrongCounts.slice(0, 5)).toEqual([]);
    expect(answers.filter((answer) => failing(answer.n))).toHaveLength(TOTAL / 100);

    expect(heapGrowth).toBeLessThan(16 * 1024 * 1024);
  } finally {
    agent.destroy();
    await relay.close();
    await upstream.close();
  }
}, 120_000);
