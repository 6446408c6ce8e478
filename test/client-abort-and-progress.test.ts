import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as Client from '../client/index';
import { built } from './helpers/processes';
import { useRelay } from './helpers/servers';
import { createWxStandIn, type WxStandIn } from './helpers/wx-stand-in';

// Issue 15, item 6: every call returns a promise with the task's powers: abort() (rejects with ABORTED,
// never retried, the WeChat task aborted too), onProgress for downloads and uploads, onHeadersReceived.

const client: typeof Client = require(built('client', 'index.js'));
const IMAGE = randomBytes(64 * 1024);

let upstreamClosed = 0;
const context = useRelay((req, res) => {
  if (req.url?.startsWith('/api/hold')) return void req.socket.once('close', () => upstreamClosed++);
  if (req.url?.startsWith('/img/')) return void res.writeHead(200, { 'content-type': 'image/png', 'content-length': IMAGE.length, 'x-backend': 'yes' }).end(IMAGE);
  res.writeHead(200, { 'content-type': 'application/json', 'x-backend': 'yes' }).end('{"ok":true}');
});

const make = (wx: WxStandIn, options: Partial<Client.RelayClientOptions> = {}) => client.createRelay({ baseUrl: context.relay.url, wx: wx as unknown as Client.WxApi, ...options });
const caught = (promise: Promise<unknown>) => promise.then(() => undefined, (error: Client.RelayError) => error);
const until = async (condition: () => boolean) => {
  for (let waited = 0; !condition() && waited < 3000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
};

test('abort() on a call in flight rejects with ABORTED, aborts the WeChat task (the relay lets go of the upstream) and is not retried', async () => {
  const wx = createWxStandIn();
  const closedBefore = upstreamClosed;
  const call = make(wx).get('api/hold');
  await until(() => context.upstream.requests.some((request) => request.url === '/api/hold'));
  call.abort();
  const error = await caught(call);
  expect([error?.code, error?.statusCode, error?.fromRelay]).toEqual(['ABORTED', 0, false]);
  await until(() => upstreamClosed > closedBefore);
  expect(upstreamClosed).toBe(closedBefore + 1);
  expect(wx.calls).toHaveLength(1);
});

test('abort() on a call still waiting in the queue rejects at once and never reaches WeChat', async () => {
  const wx = createWxStandIn();
  const relayClient = make(wx, { maxConcurrent: 1 });
  const first = relayClient.get('api/hold');
  const second = relayClient.get('api/a');
  second.abort();
  expect((await caught(second))?.code).toBe('ABORTED');
  first.abort();
  await caught(first);
  expect(wx.calls.map((call) => call.options.url)).toEqual([expect.stringContaining('hold')]);
});

test('onProgress and onHeadersReceived reach downloads; onHeadersReceived requests too', async () => {
  const progress: number[] = [];
  const headers: Record<string, string>[] = [];
  const relayClient = make(createWxStandIn());
  const file = await relayClient.downloadImage('img/a.png', undefined, { onProgress: (event) => progress.push(event.progress), onHeadersReceived: ({ header }) => headers.push(header) });
  expect(file.statusCode).toBe(200);
  expect(progress).toEqual([50, 100]);
  expect(headers[0]?.['X-Backend']).toBe('yes');
  await relayClient.get('api/a', undefined, { onHeadersReceived: ({ header }) => headers.push(header) });
  expect(headers).toHaveLength(2);
});

test('onProgress reaches uploads', async () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'mp-relay-progress-')), 'a.bin');
  writeFileSync(file, randomBytes(1000));
  const progress: number[] = [];
  await make(createWxStandIn()).upload('api/up', { filePath: file, name: 'file', onProgress: (event) => progress.push(event.progress) });
  expect(progress).toEqual([50, 100]);
});
