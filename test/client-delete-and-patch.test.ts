import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import methodOverride from 'method-override';
import type * as Client from '../client/index';
import { verifyRelaySignature } from '../examples/backend-auth/verify-relay-signature';
import * as events from './fixtures/events';
import { built, loadBundle } from './helpers/processes';
import { send, startRelay, startUpstream, type RunningRelay, type Upstream } from './helpers/servers';
import { createWxStandIn } from './helpers/wx-stand-in';

// Issue 15, item 8: the fifth function `delete`, and PATCH as a POST to `post` with
// X-HTTP-Method-Override. The relay forwards that header on `post` only and only as PATCH or DELETE,
// signs it, and drops it everywhere else. The backend here is Express with the method-override package
// (as its README mounts it, reading X-HTTP-Method-Override) behind the shipped signature verifier, so a
// PATCH route that answers proves the whole chain, signature included.

const client: typeof Client = require(built('client', 'index.js'));
const SECRET = 'delete-and-patch-test-secret-0123456789';

let recorder: Upstream;
let plainRelay: RunningRelay;
let backend: http.Server;
let backendUrl: string;
let signingRelay: RunningRelay;

beforeAll(async () => {
  recorder = await startUpstream((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method })));
  plainRelay = await startRelay({ UPSTREAM_URL: recorder.url, RELAY_LOG: '0' });

  const app = express();
  app.use(verifyRelaySignature(SECRET));
  app.use(methodOverride('X-HTTP-Method-Override'));
  // The verifier has read the body; it leaves the bytes in req.rawBody.
  const json = (req: express.Request) => JSON.parse((req as { rawBody?: Buffer }).rawBody?.toString() || 'null');
  app.patch('/api/users/:id', (req, res) => void res.json({ route: 'PATCH', id: req.params.id, body: json(req), originalMethod: (req as { originalMethod?: string }).originalMethod }));
  app.delete('/api/users/:id', (req, res) => void res.json({ route: 'DELETE', id: req.params.id, query: req.query }));
  app.post('/api/users/:id', (_req, res) => void res.json({ route: 'POST' }));
  backend = http.createServer(app);
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
  signingRelay = await startRelay({ UPSTREAM_URL: backendUrl, RELAY_SIGNING_SECRET: SECRET, RELAY_LOG: '0' });
});
afterAll(async () => {
  await plainRelay.close();
  await signingRelay.close();
  await recorder.close();
  backend.closeAllConnections();
  await new Promise((resolve) => backend.close(resolve));
});

const last = () => recorder.requests[recorder.requests.length - 1]!;

describe('the relay', () => {
  test('/delete forwards a DELETE with the query, and no body or Content-Type when none was sent', async () => {
    const reply = await send(plainRelay.url, '/delete?method=api/users/7&soft=1', { method: 'DELETE' });
    expect([reply.status, reply.json()]).toEqual([200, { method: 'DELETE' }]);
    expect([last().method, last().url, last().body.length, last().headers['content-length'], last().headers['transfer-encoding']]).toEqual(['DELETE', '/api/users/7?soft=1', 0, undefined, undefined]);
  });

  test('/delete also takes the path style, and a body when there is one (with `method` in it, as post and put)', async () => {
    expect((await send(plainRelay.url, '/delete/api/users/8', { method: 'DELETE' })).status).toBe(200);
    expect([last().method, last().url]).toEqual(['DELETE', '/api/users/8']);
    const body = '{"method":"api/users","ids":[1,2]}';
    // Stated outright: Node's client frames no DELETE body of its own accord.
    const reply = await send(plainRelay.url, '/delete', { method: 'DELETE', headers: { 'content-type': 'application/json', 'content-length': String(body.length) }, body });
    expect(reply.status).toBe(200);
    expect([last().url, last().body.toString()]).toEqual(['/api/users', '{"ids":[1,2]}']);
  });

  test('/delete answers 405 to anything but DELETE, and the others to DELETE', async () => {
    for (const [method, path, allow] of [['GET', '/delete', 'DELETE'], ['POST', '/delete', 'DELETE'], ['DELETE', '/get', 'GET'], ['DELETE', '/post', 'POST']] as const) {
      const reply = await send(plainRelay.url, `${path}?method=api/x`, { method });
      expect([method, path, reply.status, reply.headers['x-relay-error'], reply.headers['allow']]).toEqual([method, path, 405, 'METHOD_NOT_ALLOWED', allow]);
    }
  });

  test('the `delete` bundle relays a DELETE called as FC 3.0 calls it', async () => {
    const { handler } = loadBundle('delete', { UPSTREAM_URL: recorder.url, RELAY_LOG: '0' });
    const event = Buffer.from(JSON.stringify(events.fc3({ method: 'DELETE', path: '/delete', query: 'method=api/users/9' })));
    const answer = (await handler(event, {})) as { statusCode: number; body: string };
    expect(answer.statusCode).toBe(200);
    expect([last().method, last().url]).toEqual(['DELETE', '/api/users/9']);
  });

  test.each([
    ['PATCH', 'PATCH'],
    ['DELETE', 'DELETE'],
    ['patch', 'PATCH'],
    [' Delete ', 'DELETE'],
  ])('on /post, X-HTTP-Method-Override %j reaches the backend as %s', async (given, sent) => {
    const reply = await send(plainRelay.url, '/post?method=api/users/1', { method: 'POST', headers: { 'x-http-method-override': given, 'content-type': 'application/json' }, body: '{}' });
    expect(reply.status).toBe(200);
    expect([last().method, last().headers['x-http-method-override']]).toEqual(['POST', sent]);
  });

  test.each(['PUT', 'GET', 'POST', 'PATCH, DELETE', 'CONNECT', '', '\xa0PATCH\xa0'])('on /post, X-HTTP-Method-Override %j is refused with 400 BAD_HEADER, nothing sent', async (given) => {
    const before = recorder.requests.length;
    const reply = await send(plainRelay.url, '/post?method=api/users/1', { method: 'POST', headers: { 'x-http-method-override': given }, body: '{}' });
    expect([reply.status, reply.headers['x-relay-error']]).toEqual([400, 'BAD_HEADER']);
    expect(reply.json().error.message).toMatch(/x-http-method-override must be PATCH or DELETE/);
    expect(recorder.requests.length).toBe(before);
  });

  test('two X-HTTP-Method-Override lines on /post are refused too (Node joins them into one value)', async () => {
    const reply = await send(plainRelay.url, '/post?method=api/users/1', { method: 'POST', headers: { 'x-http-method-override': ['PATCH', 'DELETE'] }, body: '{}' });
    expect([reply.status, reply.headers['x-relay-error']]).toEqual([400, 'BAD_HEADER']);
  });

  test.each([
    ['/get?method=api/x', 'GET'],
    ['/put?method=api/x', 'PUT'],
    ['/delete?method=api/x', 'DELETE'],
  ])('on %s (%s) X-HTTP-Method-Override is dropped, whatever its value', async (target, method) => {
    const reply = await send(plainRelay.url, target, { method, headers: { 'x-http-method-override': 'PATCH' }, body: method === 'PUT' ? '{}' : undefined });
    expect(reply.status).toBe(200);
    expect([last().method, last().headers['x-http-method-override']]).toEqual([method, undefined]);
  });

  test('on /post, the other override names stay dropped: only X-HTTP-Method-Override is read', async () => {
    const reply = await send(plainRelay.url, '/post?method=api/x', { method: 'POST', headers: { 'x-http-method': 'DELETE', 'x-method-override': 'DELETE', x_http_method_override: 'DELETE' }, body: '{}' });
    expect(reply.status).toBe(200);
    expect(Object.keys(last().headers).filter((name) => /method/.test(name))).toEqual([]);
  });
});

describe('the client, through the relay, to Express with method-override and the signature verifier', () => {
  const relayClient = (wxApi = createWxStandIn()) => ({ wxApi, relay: client.createRelay({ baseUrl: signingRelay.url, wx: wxApi as unknown as Client.WxApi }) });

  test('relay.patch(path, data): a POST to /post carrying X-HTTP-Method-Override: PATCH, routed as PATCH by the backend', async () => {
    const { wxApi, relay } = relayClient();
    const answer = await relay.patch<{ route: string; id: string; body: unknown; originalMethod: string }>('api/users/5', { name: 'x' });
    expect([answer.statusCode, answer.data]).toEqual([200, { route: 'PATCH', id: '5', body: { name: 'x' }, originalMethod: 'POST' }]);
    const sent = wxApi.calls.at(-1)!.options;
    expect([sent.method, sent.url, sent.header['X-HTTP-Method-Override'], sent.data]).toEqual(['POST', `${signingRelay.url}/post?method=api%2Fusers%2F5`, 'PATCH', { name: 'x' }]);
  });

  test('relay.delete(path, query): a DELETE to /delete with the query in the URL and no body', async () => {
    const { wxApi, relay } = relayClient();
    const answer = await relay.delete<{ route: string; id: string; query: unknown }>('api/users/6', { soft: 1 });
    expect([answer.statusCode, answer.data]).toEqual([200, { route: 'DELETE', id: '6', query: { soft: '1' } }]);
    const sent = wxApi.calls.at(-1)!.options;
    expect([sent.method, sent.url, sent.data, Object.keys(sent.header).filter((name) => /content-type/i.test(name))]).toEqual(['DELETE', `${signingRelay.url}/delete?method=api%2Fusers%2F6&soft=1`, undefined, []]);
  });

  test('an unsigned override (straight to the backend, or added after the relay signed) is refused by the verifier', async () => {
    const direct = await send(backendUrl, '/api/users/5', { method: 'POST', headers: { 'x-http-method-override': 'DELETE' } });
    expect(direct.status).toBe(401);
  });

  test('the override is the method interceptors see, and a failed PATCH or DELETE is not retried', async () => {
    const wxApi = createWxStandIn({ failAll: { errno: 600001, errMsg: 'request:fail net::ERR_CONNECTION_RESET' } });
    const relay = client.createRelay({ baseUrl: signingRelay.url, wx: wxApi as unknown as Client.WxApi });
    const seen: string[] = [];
    relay.interceptors.request.use((config) => (seen.push(`${config.method} ${config.fn}`), config));
    await expect(relay.patch('api/users/5', {})).rejects.toMatchObject({ code: 'NETWORK' });
    await expect(relay.delete('api/users/5')).rejects.toMatchObject({ code: 'NETWORK' });
    expect(seen).toEqual(['PATCH post', 'DELETE delete']);
    expect(wxApi.calls.map((call) => call.options.method)).toEqual(['POST', 'DELETE']);
  });

  test('the wx stand-in, like wx.request, has no PATCH: the client never asks it for one', async () => {
    const wxApi = createWxStandIn();
    await new Promise<void>((resolve) => wxApi.request({ url: `${signingRelay.url}/post`, method: 'PATCH', fail: () => resolve() }));
    const { relay } = relayClient(wxApi);
    await relay.patch('api/users/5', {});
    expect(wxApi.calls.slice(1).map((call) => call.options.method)).toEqual(['POST']);
  });
});
