/**
 * @jest-environment jsdom
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { built, startListening, type Started } from './helpers/processes';
import { createWxStandIn, type WxStandIn } from './helpers/wx-stand-in';

// Issue 15, item 11: examples/miniprogram rendered and driven by miniprogram-simulate (WeChat's own
// component test kit: the official wcc compiles the page's WXML, j-component renders it into jsdom),
// against `npm start`'s relay and demo backend in a child process. The network is the wx stand-in,
// merged over the kit's wx as a mini program's code would see it. Tests render, tap, and read the page.

const EXAMPLE = path.join(__dirname, '..', 'examples', 'miniprogram');
const PAGE = path.join(EXAMPLE, 'pages', 'index', 'index');

let relay: Started;
let wxApi: WxStandIn;
const ui: string[] = [];
let simulate: typeof import('miniprogram-simulate');
let pageId: string;

beforeAll(async () => {
  // `npm start` without UPSTREAM_URL: the relay and its built-in demo backend.
  relay = await startListening(process.execPath, [built('server', 'index.js')], { PORT: '0', RELAY_LOG: '0' });
  wxApi = createWxStandIn();
  const globals = globalThis as Record<string, unknown>;
  globals.wx = Object.assign(wxApi, {
    showLoading: () => void ui.push('showLoading'),
    hideLoading: () => void ui.push('hideLoading'),
    showToast: ({ title }: { title: string }) => void ui.push(`toast ${title}`),
  });
  simulate = require('miniprogram-simulate');
  // The page reads its relay address from config.js, as the example's README tells a user to set it.
  require(path.join(EXAMPLE, 'config.js')).baseUrl = relay.base;
  // WXML compiled by the official compiler (wcc), as the developer tools compile it.
  pageId = simulate.load(PAGE, { rootPath: EXAMPLE, compiler: 'official' });
}, 30_000);
afterAll(async () => {
  await relay?.stop();
});

/** The page loaded and attached, as WeChat opens it, and onLoad's calls settled. */
async function openPage() {
  const page = renderPage();
  await page.instance.onLoad({});
  return page;
}

/** A fresh page from the one definition (the page's JS runs once, as in WeChat), attached. */
function renderPage() {
  const page = simulate.render(pageId);
  // jsdom's document; the project's types leave out the DOM.
  const { document } = globalThis as unknown as { document: { createElement(name: string): Parameters<typeof page.attach>[0] } };
  page.attach(document.createElement('parent-wrapper'));
  return page;
}

const texts = (page: ReturnType<typeof simulate.render>, selector: string) => page.querySelectorAll(selector).map((node) => node.dom!.textContent!.trim());

test('app.json, project.config.json and every page it lists are complete; the page is a Component with usingComponents', () => {
  const app = JSON.parse(readFileSync(path.join(EXAMPLE, 'app.json'), 'utf8'));
  const project = JSON.parse(readFileSync(path.join(EXAMPLE, 'project.config.json'), 'utf8'));
  expect(project.compileType).toBe('miniprogram');
  expect(project.setting.urlCheck).toBe(false);
  for (const page of app.pages as string[]) {
    for (const ext of ['js', 'json', 'wxml', 'wxss']) expect(existsSync(path.join(EXAMPLE, `${page}.${ext}`))).toBe(true);
    expect(JSON.parse(readFileSync(path.join(EXAMPLE, `${page}.json`), 'utf8')).usingComponents).toEqual({});
  }
  // Copied by npm run build, as a user would copy it.
  expect(existsSync(path.join(EXAMPLE, 'libs', 'mp-relay.js'))).toBe(true);
});

test('opening the page shows the users and the image fetched through the relay, with one loading indicator', async () => {
  ui.length = 0;
  wxApi.storage.set('token', 'token-1');
  const page = await openPage();
  expect(texts(page, '.user')).toEqual(['1 · 张三', '2 · Li Si']);
  expect(page.querySelector('.error')).toBeUndefined();
  // The <image> is rendered (wx:if) once the download has given its file, which holds the PNG.
  expect(page.querySelector('.image')).toBeDefined();
  expect(readFileSync(page.instance.data.imagePath).subarray(1, 4).toString()).toBe('PNG');
  // The request interceptor added the token to both calls, and one indicator covered them.
  expect(wxApi.calls.slice(-2).map((call) => call.options.header.Authorization)).toEqual(['Bearer token-1', 'Bearer token-1']);
  expect(ui).toEqual(['showLoading', 'hideLoading']);
  wxApi.storage.delete('token');
  page.detach();
});

test('tapping Delete sends DELETE through /delete and the row goes', async () => {
  const page = await openPage();
  page.querySelectorAll('.remove')[0]!.dispatchEvent('tap');
  await waitFor(() => page.instance.data.removed !== '');
  expect(texts(page, '.removed')).toEqual(['后端已删除 / backend deleted: DELETE 1']);
  expect(texts(page, '.user')).toEqual(['2 · Li Si']);
  expect(wxApi.calls.at(-1)!.options).toMatchObject({ method: 'DELETE', url: `${relay.base}/delete?method=api%2Fusers%2F1` });
  page.detach();
});

test('submitting the form posts it through /post and shows what the backend got', async () => {
  const page = await openPage();
  page.querySelector('#form')!.dispatchEvent('submit', { detail: { value: { name: '小程序' } } });
  await waitFor(() => page.instance.data.echoed !== '');
  expect(texts(page, '.echo')).toEqual(['后端收到 / backend got: {"name":"小程序"}']);
  page.detach();
});

test('a failure shows the relay error on the page and in a toast', async () => {
  ui.length = 0;
  const page = await openPage();
  // An API path the relay refuses: its own 400, recognised by x-relay-error.
  await page.instance.track(require(path.join(EXAMPLE, 'utils', 'relay.js')).relay.get('../etc/passwd'), () => undefined);
  expect(texts(page, '.error')[0]).toMatch(/^BAD_PATH \(400\): /);
  expect(ui.filter((entry) => entry.startsWith('toast'))).toEqual([`toast ${page.instance.data.error}`]);
  page.detach();
});

test('leaving the page aborts its calls in flight: the tasks are aborted and the page shows no error', async () => {
  ui.length = 0;
  // A network that never answers (a stalled link), so the calls are surely in flight when the page goes.
  const stalled = createWxStandIn({ silent: true });
  const globalWx = (globalThis as unknown as { wx: WxStandIn }).wx;
  const { request, downloadFile } = globalWx;
  Object.assign(globalWx, { request: stalled.request, downloadFile: stalled.downloadFile });
  try {
    const page = renderPage();
    const loading = page.instance.onLoad({});
    await waitFor(() => stalled.inFlight() === 2);
    page.instance.onUnload();
    // Named when it fails: a page that does not abort would leave onLoad waiting for ever.
    await Promise.race([loading, new Promise((_, reject) => setTimeout(() => reject(new Error('onUnload did not abort the calls in flight')), 3000))]);
    await waitFor(() => ui.includes('hideLoading'));
    expect(stalled.calls.map((call) => call.kind)).toEqual(['request', 'downloadFile']);
    expect(stalled.inFlight()).toBe(0);
    expect(page.instance.data).toMatchObject({ users: [], imagePath: '', error: '' });
    // No toast for an abort, and the indicator closes once the aborted tasks have called back.
    expect(ui).toEqual(['showLoading', 'hideLoading']);
    page.detach();
  } finally {
    Object.assign(globalWx, { request, downloadFile });
  }
});

async function waitFor(condition: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error('timed out waiting for the page');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
