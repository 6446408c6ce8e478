import fc from 'fast-check';
import { bufferedSink, formatRequestLog, LOG_BACKLOG_BYTES, type RequestLog } from '../functions/core/log';
import { redactQuery } from '../functions/core/query';
import { echo, send, startRelay, startUpstream } from './helpers/servers';

// One JSON line per request; secrets never reach it.

test('one line per request with its facts, and no secrets', async () => {
  const upstream = await startUpstream(echo);
  const relay = await startRelay({ UPSTREAM_URL: upstream.url });
  try {
    await send(relay.url, '/get?method=api/me&page=2&token=tok-SECRET1&api_key=key-SECRET2&client_secret=SECRET3&password=SECRET4', {
      headers: { authorization: 'Bearer SECRET5', cookie: 'session=SECRET6', 'x-request-id': 'req-1' },
    });
    await send(relay.url, '/post', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"method":"api/login","password":"SECRET7"}' });
    await send(relay.url, '/get?method=../etc/passwd&token=SECRET8');
    expect(relay.logs).toHaveLength(3);
    const [first, second, third] = relay.logs.map((line) => JSON.parse(line));
    expect(first).toMatchObject({
      requestId: 'req-1',
      fn: 'get',
      method: 'GET',
      path: '/api/me',
      query: 'page=2&token=***&api_key=***&client_secret=***&password=***',
      status: 200,
      bytesIn: 0,
    });
    expect(first.bytesOut).toBeGreaterThan(0);
    expect(typeof first.ms).toBe('number');
    expect(new Date(first.time).toString()).not.toBe('Invalid Date');
    expect(second).toMatchObject({ fn: 'post', method: 'POST', path: '/api/login', status: 200, bytesIn: 43 });
    expect(third).toMatchObject({ fn: 'get', status: 400, error: 'BAD_PATH' });
    expect(relay.logs.join('\n')).not.toMatch(/SECRET/);
  } finally {
    await relay.close();
    await upstream.close();
  }
});

test('RELAY_LOG=0 silences the request log', async () => {
  const upstream = await startUpstream(echo);
  const relay = await startRelay({ UPSTREAM_URL: upstream.url, RELAY_LOG: '0' });
  try {
    expect((await send(relay.url, '/get?method=api/me')).status).toBe(200);
    expect(relay.logs).toEqual([]);
  } finally {
    await relay.close();
    await upstream.close();
  }
});

// The line is built by hand for speed; it must stay exactly what JSON.stringify would write.
describe('formatRequestLog', () => {
  const entry = (overrides: Partial<RequestLog>): RequestLog => ({
    requestId: 'r', fn: 'get', method: 'GET', path: undefined, query: undefined, status: 200, ms: 1.5, bytesIn: 0, bytesOut: 2, error: undefined, detail: undefined, ...overrides,
  });
  const expected = (value: RequestLog, time: string) => {
    const { requestId, fn, method, path, query, status, ms, bytesIn, bytesOut, error, detail } = value;
    return JSON.stringify({ time, requestId, fn, method, path, query: query === undefined ? undefined : redactQuery(query), status, ms, bytesIn, bytesOut, error, detail });
  };

  test('equals JSON.stringify of the same fields for any text, quotes, controls and lone surrogates included', () => {
    const text = fc.string({ unit: 'binary', maxLength: 40 });
    fc.assert(
      fc.property(text, text, fc.option(text, { nil: undefined }), fc.option(text, { nil: undefined }), fc.option(text, { nil: undefined }), fc.integer({ min: 100, max: 599 }), fc.double({ min: 0, max: 1e6, noNaN: true }), (requestId, method, path, query, detail, status, ms) => {
        const value = entry({ requestId, method, path, query, detail, error: detail === undefined ? undefined : 'INTERNAL', status, ms: Math.round(ms * 10) / 10 });
        expect(formatRequestLog(value, '2026-12-01T00:00:00.000Z')).toBe(expected(value, '2026-12-01T00:00:00.000Z'));
      }),
      { numRuns: 2000 },
    );
  });

  test('stamps the current time', () => {
    const line = JSON.parse(formatRequestLog(entry({})));
    expect(Math.abs(Date.parse(line.time) - Date.now())).toBeLessThan(1000);
  });
});

describe('bufferedSink (servers)', () => {
  const output = (writableLength = 0) => ({ writes: [] as string[], writableLength, write(text: string) { this.writes.push(text); } });
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

  test('writes the lines of one event-loop turn in one write, each ending in a newline', async () => {
    const out = output();
    const sink = bufferedSink(out);
    sink('{"a":1}');
    sink('{"a":2}');
    expect(out.writes).toEqual([]);
    await nextTurn();
    expect(out.writes).toEqual(['{"a":1}\n{"a":2}\n']);
    sink('{"a":3}');
    await nextTurn();
    expect(out.writes).toEqual(['{"a":1}\n{"a":2}\n', '{"a":3}\n']);
  });

  test('drops lines while the output holds more than LOG_BACKLOG_BYTES unwritten, then says how many', async () => {
    const out = output(LOG_BACKLOG_BYTES + 1);
    const sink = bufferedSink(out);
    sink('{"a":1}');
    sink('{"a":2}');
    await nextTurn();
    sink('{"a":3}');
    await nextTurn();
    expect(out.writes).toEqual([]);
    out.writableLength = 0;
    sink('{"a":4}');
    await nextTurn();
    expect(out.writes).toHaveLength(1);
    const [warning, line] = out.writes[0]!.trim().split('\n').map((text) => JSON.parse(text));
    expect(warning).toMatchObject({ level: 'warn', event: 'logLinesDropped', count: 3 });
    expect(line).toEqual({ a: 4 });
  });
});

test('bufferedSink: the dropped count comes out even when no line follows, once the output drains', async () => {
  const out = { writes: [] as string[], writableLength: LOG_BACKLOG_BYTES + 1, write(text: string) { this.writes.push(text); } };
  const sink = bufferedSink(out);
  sink('{"a":1}');
  await new Promise((resolve) => setImmediate(resolve));
  out.writableLength = 0;
  await new Promise((resolve) => setTimeout(resolve, 1200));
  expect(out.writes.map((text) => JSON.parse(text.trim()))).toEqual([expect.objectContaining({ event: 'logLinesDropped', count: 1 })]);
});
