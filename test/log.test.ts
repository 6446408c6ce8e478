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
