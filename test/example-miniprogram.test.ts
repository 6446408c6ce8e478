import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startDemoBackend, type DemoBackend } from '../functions/local/demo-backend';
import { startRelay, type RunningRelay } from './helpers/servers';
import { createWxStandIn } from './helpers/wx-stand-in';

// examples/miniprogram, run as WeChat would run its page: the page's own code with the copied client,
// the wx stand-in for the network, the real relay and its demo backend.

const EXAMPLE = path.join(__dirname, '..', 'examples', 'miniprogram');

let demo: DemoBackend;
let relay: RunningRelay;
beforeAll(async () => {
  demo = await startDemoBackend();
  relay = await startRelay({ UPSTREAM_URL: demo.url, RELAY_LOG: '0' });
});
afterAll(async () => {
  await relay.close();
  await demo.close();
});

test('app.json, project.config.json and every page it lists are complete', () => {
  const app = JSON.parse(readFileSync(path.join(EXAMPLE, 'app.json'), 'utf8'));
  const project = JSON.parse(readFileSync(path.join(EXAMPLE, 'project.config.json'), 'utf8'));
  expect(project.compileType).toBe('miniprogram');
  expect(project.setting.urlCheck).toBe(false);
  for (const page of app.pages as string[]) {
    for (const ext of ['js', 'json', 'wxml', 'wxss']) expect(existsSync(path.join(EXAMPLE, `${page}.${ext}`))).toBe(true);
  }
  // Copied by npm run build, as a user would copy it.
  expect(existsSync(path.join(EXAMPLE, 'libs', 'mp-relay.js'))).toBe(true);
});

test('the page lists users, posts the form and shows the image, all through the relay', async () => {
  const globals = globalThis as Record<string, unknown>;
  let definition: any;
  globals.wx = createWxStandIn();
  globals.Page = (def: unknown) => (definition = def);
  try {
    jest.isolateModules(() => {
      require(path.join(EXAMPLE, 'config.js')).baseUrl = relay.url;
      require(path.join(EXAMPLE, 'pages', 'index', 'index.js'));
    });
    const page = { ...definition, data: { ...definition.data } };
    page.setData = (patch: Record<string, unknown>) => Object.assign(page.data, patch);

    await page.onLoad();
    expect(page.data.error).toBe('');
    expect(page.data.users.map((user: { name: string }) => user.name)).toEqual(['张三', 'Li Si']);
    expect(readFileSync(page.data.imagePath).subarray(1, 4).toString()).toBe('PNG');

    await page.submit({ detail: { value: { name: '小程序' } } });
    expect(JSON.parse(page.data.echoed)).toEqual({ name: '小程序' });
  } finally {
    delete globals.wx;
    delete globals.Page;
  }
});
