import * as events from './fixtures/events';
import { loadBundle } from './helpers/processes';
import { send, startRelay, startUpstream, type RunningRelay, type Upstream } from './helpers/servers';

// Prefixes in front of the relay's own paths: RELAY_BASE_PATH (a custom domain's API mapping, a
// reverse proxy's location) on every runtime, and the named stage an AWS HTTP API puts in rawPath.

let upstream: Upstream;
beforeAll(async () => {
  upstream = await startUpstream((req, res) => res.end(JSON.stringify({ url: req.url })));
});
afterAll(() => upstream.close());
const lastUrl = () => upstream.requests[upstream.requests.length - 1]!.url;

describe('RELAY_BASE_PATH=/relay on the local server', () => {
  let relay: RunningRelay;
  beforeAll(async () => {
    relay = await startRelay({ UPSTREAM_URL: upstream.url, RELAY_BASE_PATH: '/relay', RELAY_LOG: '0' });
  });
  afterAll(() => relay.close());

  test.each([
    ['/relay/get?method=api/users&page=2', '/api/users?page=2'],
    ['/relay/get/api/users?page=2', '/api/users?page=2'],
    ['/relay/getDownImg?method=img/a.png', '/img/a.png'],
  ])('%s reaches %s', async (target, forwarded) => {
    expect((await send(relay.url, target)).status).toBe(200);
    expect(lastUrl()).toBe(forwarded);
  });

  test.each(['/get?method=api/users', '/relayget?method=api/users', '/other/get?method=api/users'])('%s is outside the base path: 404 NOT_FOUND', async (target) => {
    const reply = await send(relay.url, target);
    expect([reply.status, reply.headers['x-relay-error']]).toEqual([404, 'NOT_FOUND']);
  });
});

describe('in events', () => {
  test('an HTTP API with a named stage: the stage in rawPath is not part of the route', async () => {
    const { handler } = loadBundle('get', { UPSTREAM_URL: upstream.url, RELAY_LOG: '0' });
    const event = events.lambdaV2({ method: 'GET', path: '/prod/get', query: 'method=api/users' });
    (event.requestContext as { stage: string }).stage = 'prod';
    expect(((await handler(event, {})) as { statusCode: number }).statusCode).toBe(200);
    expect(lastUrl()).toBe('/api/users');
  });

  test('the $default stage leaves rawPath alone', async () => {
    const { handler } = loadBundle('get', { UPSTREAM_URL: upstream.url, RELAY_LOG: '0' });
    const event = events.lambdaV2({ method: 'GET', path: '/get', query: 'method=api/users' });
    (event.requestContext as { stage: string }).stage = '$default';
    expect(((await handler(event, {})) as { statusCode: number }).statusCode).toBe(200);
  });

  test.each([
    ['Aliyun FC 3.0', () => Buffer.from(JSON.stringify(events.fc3({ method: 'GET', path: '/relay/get', query: 'method=api/users' })))],
    ['Tencent SCF function URL', () => events.scfFunctionUrl({ method: 'GET', path: '/relay/get', query: 'method=api/users' })],
    // A REST API's custom-domain mapping stays in `path`; an HTTP API's is not in rawPath at all
    // (docs.aws.amazon.com apigateway http-api-develop-integrations-lambda: "rawPath won't provide the API mapping value").
    ['AWS Lambda v1 (custom domain mapping "relay")', () => events.lambdaV1({ method: 'GET', path: '/relay/get', query: 'method=api/users' })],
  ])('%s with RELAY_BASE_PATH=/relay', async (_name, makeEvent) => {
    const { handler } = loadBundle('get', { UPSTREAM_URL: upstream.url, RELAY_BASE_PATH: '/relay', RELAY_LOG: '0' });
    expect(((await handler(makeEvent(), {})) as { statusCode: number }).statusCode).toBe(200);
    expect(lastUrl()).toBe('/api/users');
  });
});
