import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { built, startListening } from './helpers/processes';
import { send, startUpstream } from './helpers/servers';

// What `npm run build` leaves for deployment: one bundle and one upload-ready zip per function, and
// the Tencent SCF web function with its bootstrap. Sizes are budgets; speed is for `npm run bench:cold`.

const FUNCTIONS = ['get', 'post', 'put', 'getDownImg', 'delete'];

interface ZipEntry {
  name: string;
  mode: number;
  data: Buffer;
}

/** Reads a ZIP through its central directory, as unzip and the cloud consoles do. */
function readZip(file: string): ZipEntry[] {
  const zip = readFileSync(file);
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    expect(zip.readUInt32LE(at)).toBe(0x02014b50);
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const mode = zip.readUInt32LE(at + 38) >>> 16;
    const localAt = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    const dataAt = localAt + 30 + zip.readUInt16LE(localAt + 26) + zip.readUInt16LE(localAt + 28);
    const raw = zip.subarray(dataAt, dataAt + compressedSize);
    const data = method === 8 ? inflateRawSync(raw) : raw;
    expect(data.length).toBe(size);
    entries.push({ name, mode, data });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

test.each(FUNCTIONS)('dist/%s/index.js is one self-contained file within the 40 KB budget', (fn) => {
  const file = built(fn, 'index.js');
  const size = statSync(file).size;
  expect(size).toBeLessThanOrEqual(40 * 1024);
  const code = readFileSync(file, 'utf8');
  // Only Node built-ins may be required at run time: nothing from node_modules is left outside.
  const required = [...code.matchAll(/require\("([^"]+)"\)/g)].map((match) => match[1]);
  expect(required.filter((name) => !name!.startsWith('node:'))).toEqual([]);
  // The map sits beside the bundle for debugging, and stays out of the zip.
  expect(statSync(`${file}.map`).size).toBeGreaterThan(0);
});

test.each(FUNCTIONS)('dist/%s.zip holds exactly that index.js at its root', (fn) => {
  const entries = readZip(built(`${fn}.zip`));
  expect(entries.map((entry) => entry.name)).toEqual(['index.js']);
  expect(entries[0]!.data.equals(readFileSync(built(fn, 'index.js')))).toBe(true);
});

describe('server mode (dist/web): Tencent SCF web function and Aliyun FC custom runtime', () => {
  test.each([
    // SCF: an absolute node path (583/56126); FC custom.debian10's built-in Node.js 20 (help doc 132053).
    ['scf_bootstrap', /\/var\/lang\/node\d+\/bin\/node/, 'tencent-scf'],
    ['bootstrap', /\/var\/fc\/lang\/nodejs20\/bin\/node/, 'aliyun-fc'],
  ])('dist/web.zip holds an executable %s (LF, bash, absolute node path, exec) naming its platform', (name, nodePath, platform) => {
    const entries = readZip(built('web.zip'));
    expect(entries.map((entry) => entry.name).sort()).toEqual(['bootstrap', 'index.js', 'scf_bootstrap']);
    const bootstrap = entries.find((entry) => entry.name === name)!;
    expect(bootstrap.mode & 0o777).toBe(0o755);
    const script = bootstrap.data.toString('utf8');
    expect(script.startsWith('#!/bin/bash\n')).toBe(true);
    expect(script).not.toContain('\r');
    expect(script).toMatch(nodePath);
    expect(script).toContain(`export RELAY_PLATFORM=${platform}`);
    expect(script).toMatch(/exec "\$node" index\.js/);
    expect(statSync(built('web', name)).mode & 0o111).not.toBe(0);
  });

  test('scf_bootstrap starts all five endpoints on one server; SCF headers stay behind', async () => {
    const upstream = await startUpstream((req, res, body) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ url: req.url, headers: req.headers, body: body.toString() }));
    });
    // MP_RELAY_NODE stands in for /var/lang/nodeNN/bin/node; HOST and PORT for SCF's 0.0.0.0:9000.
    const web = await startListening('bash', [built('web', 'scf_bootstrap')], {
      MP_RELAY_NODE: process.execPath,
      HOST: '127.0.0.1',
      PORT: '0',
      UPSTREAM_URL: upstream.url,
      RELAY_LOG: '0',
    });
    try {
      const got = await send(web.base, '/get?method=api/users', { headers: { 'x-scf-request-id': 'r1', 'x-scf-remote-addr': '203.0.113.8' } });
      expect([got.status, got.json().url]).toEqual([200, '/api/users']);
      expect(Object.keys(got.json().headers).filter((name) => name.startsWith('x-scf-'))).toEqual([]);
      expect(got.json().headers['x-forwarded-for']).toBe('203.0.113.8');
      expect(got.json().headers['x-forwarded-proto']).toBe('https');
      const posted = await send(web.base, '/post', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"method":"api/echo","a":1}' });
      expect(posted.json()).toMatchObject({ url: '/api/echo', body: '{"a":1}' });
      const put = await send(web.base, '/put?method=api/echo', { method: 'PUT', body: 'x' });
      const image = await send(web.base, '/getDownImg?method=img/a.png');
      expect([put.status, image.status]).toEqual([200, 200]);
    } finally {
      await web.stop();
      await upstream.close();
    }
  });

  test('without UPSTREAM_URL it still starts, and answers CONFIG errors that name the variable', async () => {
    const web = await startListening('bash', [built('web', 'scf_bootstrap')], { MP_RELAY_NODE: process.execPath, HOST: '127.0.0.1', PORT: '0', RELAY_LOG: '0' });
    try {
      expect(web.output()).toMatch(/configuration error: UPSTREAM_URL/);
      const reply = await send(web.base, '/get?method=api/users');
      expect([reply.status, reply.headers['x-relay-error']]).toEqual([500, 'CONFIG']);
    } finally {
      await web.stop();
    }
  });
});

test('npm run bench:cold still runs (one sample; the numbers are for reading, not asserting)', () => {
  const run = spawnSync(process.execPath, [path.join(__dirname, '..', 'scripts', 'bench-cold.mjs')], { env: { ...process.env, BENCH_RUNS: '1' }, encoding: 'utf8' });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  for (const fn of FUNCTIONS) expect(run.stdout).toMatch(new RegExp(`\\| dist/${fn} \\| \\d+ \\|`));
});
