// `npm run smoke -- https://api.example.cn [--get api/users] [--post api/echo] [--put api/echo] [--delete api/echo] [--img img/logo.png]`
// Probes a deployed (or local) relay end to end through its five functions and prints a pass/fail
// table. The default paths are the demo backend's, so `npm start` then `npm run smoke -- http://127.0.0.1:9000`
// passes as is; against your backend, name paths it answers. got's retries ride out a cold start.
import got, { type Response } from 'got';

interface Probe {
  name: string;
  request: string;
  send(): Promise<Response<Buffer>>;
  /** Undefined when the answer is what it should be; otherwise what is wrong. */
  check(response: Response<Buffer>): string | undefined;
  /** Shown beside a pass. */
  detail?(response: Response<Buffer>): string;
}

function option(argv: string[], flag: string, fallback: string): string {
  const index = argv.indexOf(flag);
  return index === -1 ? fallback : (argv[index + 1] ?? fallback);
}

/** An answer that came from the backend, not from the relay failing. */
function fromBackend(response: Response<Buffer>): string | undefined {
  const relayError = response.headers['x-relay-error'];
  if (relayError) return `relay error ${relayError}: ${errorMessage(response)}`;
  if (response.statusCode >= 500) return `status ${response.statusCode} without x-relay-error (is this the relay?)`;
  if (!response.headers['x-request-id']) return 'no x-request-id header: the answer did not come through mp-relay';
  return undefined;
}

function errorMessage(response: Response<Buffer>): string {
  try {
    return JSON.parse(response.body.toString('utf8')).error.message;
  } catch {
    return response.body.subarray(0, 120).toString('utf8');
  }
}

async function main(argv: string[]): Promise<number> {
  const base = argv.find((arg) => /^https?:\/\//.test(arg))?.replace(/\/+$/, '');
  if (!base) {
    process.stderr.write('usage: npm run smoke -- https://your.domain [--get api/users] [--post api/echo] [--put api/echo] [--delete api/echo] [--img img/logo.png]\n');
    return 2;
  }
  const paths = { get: option(argv, '--get', 'api/users'), post: option(argv, '--post', 'api/echo'), put: option(argv, '--put', 'api/echo'), delete: option(argv, '--delete', 'api/echo'), img: option(argv, '--img', 'img/logo.png') };
  const client = got.extend({
    throwHttpErrors: false,
    followRedirect: false,
    responseType: 'buffer',
    timeout: { request: 20_000 },
    // A cold start or a dropped connection is retried; the relay's own answers are not (no status codes).
    retry: { limit: 2, methods: ['GET', 'PUT', 'POST', 'DELETE'], statusCodes: [] },
    headers: { 'user-agent': 'mp-relay-smoke' },
  });
  const send = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', target: string, json?: unknown) => client(target, { method, json, responseType: 'buffer' });
  const url = (fn: string, query: string) => `${base}/${fn}?${query}`;
  const q = (path: string) => `method=${encodeURIComponent(path)}`;

  const probes: Probe[] = [
    { name: 'get', request: `GET /get?method=${paths.get}`, send: () => send('GET', url('get', q(paths.get))), check: fromBackend },
    {
      name: 'post',
      request: `POST /post {"method":"${paths.post}",...}`,
      send: () => send('POST', `${base}/post`, { method: paths.post, smoke: true }),
      check: fromBackend,
    },
    { name: 'put', request: `PUT /put?method=${paths.put}`, send: () => send('PUT', url('put', q(paths.put)), { smoke: true }), check: fromBackend },
    {
      name: 'getDownImg',
      request: `GET /getDownImg?method=${paths.img}`,
      send: () => send('GET', url('getDownImg', q(paths.img))),
      check: (response) => {
        const wrong = fromBackend(response);
        if (wrong) return wrong;
        if (response.statusCode !== 200) return `status ${response.statusCode}, expected 200`;
        const type = String(response.headers['content-type'] ?? '');
        if (/json|text\/html/.test(type)) return `content-type ${type}: not an image`;
        return response.body.length === 0 ? 'empty body' : undefined;
      },
      detail: (response) => `${response.body.length} bytes, ${response.headers['content-type']}`,
    },
    { name: 'delete', request: `DELETE /delete?method=${paths.delete}`, send: () => send('DELETE', url('delete', q(paths.delete))), check: fromBackend },
    {
      name: 'bad path',
      request: 'GET /get?method=../../etc/passwd',
      send: () => send('GET', url('get', 'method=..%2F..%2Fetc%2Fpasswd')),
      check: (response) =>
        response.statusCode === 400 && response.headers['x-relay-error'] === 'BAD_PATH'
          ? undefined
          : `expected the relay's 400 BAD_PATH, got ${response.statusCode} ${response.headers['x-relay-error'] ?? '(no x-relay-error)'}`,
    },
  ];

  process.stdout.write(`mp-relay smoke test of ${base}\n`);
  if (base.startsWith('http://') && !/^http:\/\/(127\.|localhost|\[::1\])/.test(base)) {
    process.stdout.write('note: mini programs only call https:// domains; this checks the relay, not what WeChat will accept\n');
  }
  const rows: string[][] = [];
  let failed = 0;
  for (const probe of probes) {
    const started = performance.now();
    let verdict: string;
    let detail: string;
    let status = '-';
    try {
      const response = await probe.send();
      status = String(response.statusCode);
      const wrong = probe.check(response);
      verdict = wrong ? 'FAIL' : 'PASS';
      detail = wrong ?? probe.detail?.(response) ?? `x-request-id ${response.headers['x-request-id'] ?? '-'}`;
    } catch (error) {
      verdict = 'FAIL';
      detail = `no answer: ${(error as Error).message}`;
    }
    if (verdict === 'FAIL') failed++;
    rows.push([verdict, probe.name, probe.request, status, `${Math.round(performance.now() - started)} ms`, detail]);
  }
  const header = ['result', 'probe', 'request', 'status', 'time', 'detail'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ');
  process.stdout.write(`${[line(header), ...rows.map(line)].join('\n')}\n`);
  process.stdout.write(failed === 0 ? `all ${rows.length} probes passed\n` : `${failed} of ${rows.length} probes failed\n`);
  return failed === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then((code) => process.exit(code));
