import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as Client from '../client/index';
import { built } from './helpers/processes';
import { startRelay, startUpstream, type RunningRelay, type Upstream } from './helpers/servers';
import { createWxStandIn } from './helpers/wx-stand-in';

// Issue 15, item 2: WeChat limits concurrent wx.request, wx.uploadFile and wx.downloadFile per mini
// program, the three counted together. The client's queue is module-level, so clients created per page
// share it. The stand-in fails any call past 10 in flight ("exceed max task count").

const client: typeof Client = require(built('client', 'index.js'));

let upstream: Upstream;
let relay: RunningRelay;
beforeAll(async () => {
  upstream = await startUpstream((_req, res) => setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'), 40));
  relay = await startRelay({ UPSTREAM_URL: upstream.url, RELAY_LOG: '0' });
});
afterAll(async () => {
  await relay.close();
  await upstream.close();
});

test('the limit is WeChat’s: 10', () => {
  expect(client.WECHAT_MAX_TASKS).toBe(10);
});

test('three clients (one per page) with calls of all three kinds never have more than 10 in flight together', async () => {
  const wx = createWxStandIn();
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'mp-relay-queue-')), 'a.txt');
  writeFileSync(file, 'x');
  const pages = [0, 1, 2].map(() => client.createRelay({ baseUrl: relay.url, wx: wx as unknown as Client.WxApi }));
  const calls = pages.flatMap((page) => [
    ...Array.from({ length: 6 }, () => page.get('api/a')),
    ...Array.from({ length: 4 }, () => page.downloadImage('img/a')),
    ...Array.from({ length: 3 }, () => page.upload('api/up', { filePath: file, name: 'file' })),
  ]);
  const results = await Promise.allSettled(calls);
  expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
  expect(wx.peakInFlight()).toBe(10);
});

test('maxConcurrent caps one client’s own calls inside the shared limit', async () => {
  const wx = createWxStandIn();
  const limited = client.createRelay({ baseUrl: relay.url, wx: wx as unknown as Client.WxApi, maxConcurrent: 2 });
  await Promise.all(Array.from({ length: 8 }, () => limited.get('api/a')));
  expect(wx.peakInFlight()).toBe(2);
});
