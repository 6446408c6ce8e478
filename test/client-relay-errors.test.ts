import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as Client from '../client/index';
import { built } from './helpers/processes';
import { startRelay, startUpstream, type RunningRelay, type Upstream } from './helpers/servers';
import { createWxStandIn, type WxStandIn } from './helpers/wx-stand-in';

// Issue 15, item 1: a relay error is recognised only by the relay's `x-relay-error` header, on requests,
// downloads and uploads alike. A backend answer is never taken for one, whatever its status and body.

const client: typeof Client = require(built('client', 'index.js'));

// Bodies a backend might well send that look like the relay's own errors.
const LOOKALIKES: [string, number, unknown][] = [
  ['/api/not-found', 404, { error: { code: 'NOT_FOUND', message: 'no such user' } }],
  ['/api/bad-path', 400, { error: { code: 'BAD_PATH', message: 'a validation error of the backend' } }],
  ['/api/broken', 500, { error: { code: 'INTERNAL', message: 'the backend failed' } }],
  ['/api/gateway', 502, { error: { code: 'UPSTREAM_UNREACHABLE' } }],
];

let upstream: Upstream;
let relay: RunningRelay;
beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    const found = LOOKALIKES.find(([url]) => req.url!.startsWith(url));
    if (!found) return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    res.writeHead(found[1], { 'content-type': 'application/json' }).end(JSON.stringify(found[2]));
  });
  relay = await startRelay({ UPSTREAM_URL: upstream.url, RELAY_LOG: '0' });
});
afterAll(async () => {
  await relay.close();
  await upstream.close();
});

const make = (wx: WxStandIn) => client.createRelay({ baseUrl: relay.url, wx: wx as unknown as Client.WxApi });
const caught = (promise: Promise<unknown>) => promise.then(() => undefined, (error: Client.RelayError) => error);

test.each(LOOKALIKES)('request: the backend’s %s (%i) resolves as its answer, however much it looks like a relay error', async (url, status, body) => {
  const res = await make(createWxStandIn()).get(url.slice(1));
  expect([res.statusCode, res.data]).toEqual([status, body]);
});

test.each(LOOKALIKES)('download: the backend’s %s (%i) is BAD_STATUS with its status, never a relay error', async (url, status) => {
  const error = await caught(make(createWxStandIn()).downloadImage(url.slice(1)));
  expect([error?.code, error?.statusCode, error?.fromRelay]).toEqual(['BAD_STATUS', status, false]);
});

test.each(LOOKALIKES)('upload: the backend’s %s (%i) resolves as its answer', async (url, status, body) => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'mp-relay-upload-')), 'a.txt');
  writeFileSync(file, 'x');
  const res = await make(createWxStandIn()).upload(url.slice(1), { filePath: file, name: 'file' });
  expect([res.statusCode, res.data]).toEqual([status, body]);
});

test('the relay’s own errors are known by their header on all three: code, status and request id', async () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'mp-relay-upload-')), 'a.txt');
  writeFileSync(file, 'x');
  const relayClient = make(createWxStandIn());
  for (const call of [relayClient.get('../x'), relayClient.downloadImage('../x'), relayClient.upload('../x', { filePath: file, name: 'file' })]) {
    const error = await caught(call);
    expect([error?.code, error?.statusCode, error?.fromRelay]).toEqual(['BAD_PATH', 400, true]);
    expect(error?.requestId).toMatch(/^[0-9a-f-]{36}$/);
  }
});

test('without onHeadersReceived (older base libraries) a failed download is BAD_STATUS: the body is never guessed at', async () => {
  const error = await caught(make(createWxStandIn({ noHeaderEvents: true })).downloadImage('../x'));
  expect([error?.code, error?.statusCode, error?.fromRelay]).toEqual(['BAD_STATUS', 400, false]);
});
