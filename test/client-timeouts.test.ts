import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as Client from '../client/index';
import { built } from './helpers/processes';
import { startFlakyFront, useRelay } from './helpers/servers';
import { createWxStandIn, type WxStandIn } from './helpers/wx-stand-in';

// Issue 15, item 3: no timeout given, none passed (app.json's networkTimeout applies); one given applies
// to requests, downloads and uploads, retries included. Retries: idempotent calls only, transient
// network failures only; never an abort, a timeout, a URL outside the domain lists or a relay refusal.
// Errors keep WeChat's errno and errMsg.

const client: typeof Client = require(built('client', 'index.js'));

const context = useRelay((req, res) => {
  if (req.url?.startsWith('/api/never')) return;
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
});

const make = (wx: WxStandIn, options: Partial<Client.RelayClientOptions> = {}) => client.createRelay({ baseUrl: context.relay.url, wx: wx as unknown as Client.WxApi, ...options });
const caught = (promise: Promise<unknown>) => promise.then(() => undefined, (error: Client.RelayError) => error);
const uploadFile = () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'mp-relay-timeouts-')), 'a.txt');
  writeFileSync(file, 'x');
  return file;
};

const flakyFront = (drops: number) => startFlakyFront(context.relay.url, drops);

test('no timeout given: none is passed to wx, so app.json’s networkTimeout applies', async () => {
  const wx = createWxStandIn();
  const relayClient = make(wx);
  await relayClient.get('api/a');
  await relayClient.downloadImage('img/a');
  await relayClient.upload('api/up', { filePath: uploadFile(), name: 'file' });
  expect(wx.calls.map((call) => [call.kind, 'timeout' in call.options])).toEqual([
    ['request', false],
    ['downloadFile', false],
    ['uploadFile', false],
  ]);
});

test('a timeout given, once or per call, reaches requests, downloads and uploads', async () => {
  const wx = createWxStandIn();
  const relayClient = make(wx, { timeout: 5000 });
  await relayClient.get('api/a');
  await relayClient.downloadImage('img/a', undefined, { timeout: 4000 });
  await relayClient.upload('api/up', { filePath: uploadFile(), name: 'file' });
  expect(wx.calls.map((call) => [call.kind, call.options.timeout])).toEqual([
    ['request', 5000],
    ['downloadFile', 4000],
    ['uploadFile', 5000],
  ]);
});

test('a retried get gets what is left of the caller’s time, not all of it again', async () => {
  const front = await flakyFront(1);
  try {
    const wx = createWxStandIn();
    const relayClient = client.createRelay({ baseUrl: front.url, wx: wx as unknown as Client.WxApi, timeout: 3000 });
    expect((await relayClient.get('api/a')).statusCode).toBe(200);
    const [first, second] = wx.calls.map((call) => call.options.timeout);
    expect(first).toBe(3000);
    expect(second).toBeLessThanOrEqual(3000);
    expect(second).toBeGreaterThan(2000);
    expect(front.connections()).toBe(2);
  } finally {
    await front.close();
  }
});

test('a transient failure of a get keeps errno and errMsg when it fails again', async () => {
  const front = await flakyFront(2);
  try {
    const error = await caught(client.createRelay({ baseUrl: front.url, wx: createWxStandIn() as unknown as Client.WxApi }).get('api/a'));
    expect([error?.code, error?.statusCode, error?.errno]).toEqual(['NETWORK', 0, 600001]);
    expect(error?.errMsg).toMatch(/^request:fail /);
    expect(front.connections()).toBe(2);
  } finally {
    await front.close();
  }
});

test('a URL outside the mini program’s domain lists (errno 600002) is not retried', async () => {
  const wx = createWxStandIn({ domains: ['https://relay.example.cn'] });
  const error = await caught(make(wx).get('api/a'));
  expect([error?.code, error?.errno, error?.errMsg]).toEqual(['NETWORK', 600002, 'request:fail url not in domain list']);
  expect(wx.calls).toHaveLength(1);
});

test('a relay refusal is not retried', async () => {
  const wx = createWxStandIn();
  const error = await caught(make(wx).get('../x'));
  expect([error?.code, error?.fromRelay]).toEqual(['BAD_PATH', true]);
  expect(wx.calls).toHaveLength(1);
});

test('a timed-out download is not retried either: the time is spent', async () => {
  const wx = createWxStandIn();
  const error = await caught(make(wx, { timeout: 300 }).downloadImage('api/never'));
  expect(error?.code).toBe('TIMEOUT');
  expect(wx.calls).toHaveLength(1);
});

test('a download is retried once after a transient failure; post, put, patch, delete and upload never are', async () => {
  const front = await flakyFront(1);
  try {
    const wx = createWxStandIn();
    const relayClient = client.createRelay({ baseUrl: front.url, wx: wx as unknown as Client.WxApi });
    expect((await relayClient.downloadImage('img/a')).statusCode).toBe(200);
    expect(wx.calls.map((call) => call.kind)).toEqual(['downloadFile', 'downloadFile']);
  } finally {
    await front.close();
  }
  const sends: [string, (relayClient: Client.RelayClient) => Promise<unknown>][] = [
    ['post', (relayClient) => relayClient.post('api/a', {})],
    ['put', (relayClient) => relayClient.put('api/a', {})],
    ['patch', (relayClient) => relayClient.patch('api/a', {})],
    ['delete', (relayClient) => relayClient.delete('api/a')],
    ['upload', (relayClient) => relayClient.upload('api/up', { filePath: uploadFile(), name: 'file' })],
  ];
  for (const [what, sendOnce] of sends) {
    const once = await flakyFront(1);
    try {
      const wx = createWxStandIn();
      const error = await caught(sendOnce(client.createRelay({ baseUrl: once.url, wx: wx as unknown as Client.WxApi })));
      expect([what, error?.code, wx.calls.length]).toEqual([what, 'NETWORK', 1]);
    } finally {
      await once.close();
    }
  }
});
