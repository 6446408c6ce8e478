import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'acorn';
import ts from 'typescript';

// Issue 15, item 10: the client is an npm package a mini program can install (developer tools' 构建 npm
// copies the `miniprogram` folder) or copy by hand: one self-contained JS file whose syntax is ES5, and
// one .d.ts that imports no project file. `npm pack` in client/ yields exactly those.

const CLIENT = path.join(__dirname, '..', 'client');
const pkg = JSON.parse(readFileSync(path.join(CLIENT, 'package.json'), 'utf8'));
const js = readFileSync(path.join(CLIENT, 'miniprogram_dist', 'index.js'), 'utf8');
const dts = readFileSync(path.join(CLIENT, 'miniprogram_dist', 'index.d.ts'), 'utf8');

test('package.json: name, version, license, the miniprogram folder, types', () => {
  expect(pkg).toMatchObject({ name: 'mp-relay-client', license: 'MIT', miniprogram: 'miniprogram_dist', main: 'miniprogram_dist/index.js', types: 'miniprogram_dist/index.d.ts' });
  expect(pkg.version).toMatch(/^\d+\.\d+\.\d+$/);
});

test('npm pack holds exactly the JS file, the .d.ts and package.json', () => {
  const run = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: CLIENT, encoding: 'utf8' });
  expect(run.status).toBe(0);
  const files = JSON.parse(run.stdout)[0].files.map((file: { path: string }) => file.path).sort();
  expect(files).toEqual(['miniprogram_dist/index.d.ts', 'miniprogram_dist/index.js', 'package.json']);
});

test('the JS file is ES5 syntax, self-contained, and the same build as dist/client', () => {
  expect(() => parse(js, { ecmaVersion: 5 })).not.toThrow();
  expect(js).not.toMatch(/\brequire\(/);
  expect(readFileSync(path.join(__dirname, '..', 'dist', 'client', 'index.js'), 'utf8')).toBe(js);
});

test('it runs where only ES5 syntax and Promise exist: created, called, answered', async () => {
  const sandbox = { module: { exports: {} as Record<string, any> }, exports: {}, Promise, Object, Array, String, Number, Error, TypeError, JSON, Date, Math, encodeURIComponent, setTimeout, clearTimeout, isFinite };
  new Function(...Object.keys(sandbox), js)(...Object.values(sandbox));
  const { createRelay, RelayError } = sandbox.module.exports;
  const wx = { request: (options: any) => (setTimeout(() => options.success({ statusCode: 200, header: {}, data: { ok: true } })), { abort() {} }) };
  const res = await createRelay({ baseUrl: 'https://relay.example.cn', wx }).get('api/a', { tag: ['a', 'b'] });
  expect(res.data).toEqual({ ok: true });
  expect(new RelayError('BAD_PATH', 400, 'x')).toBeInstanceOf(RelayError);
});

test('the .d.ts imports no project file and type-checks a mini program’s use of it', () => {
  expect(dts).not.toMatch(/^\s*import\s/m);
  expect(dts).not.toMatch(/from\s+['"]\./);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mp-relay-dts-'));
  writeFileSync(path.join(dir, 'index.d.ts'), dts);
  writeFileSync(
    path.join(dir, 'page.ts'),
    `import { createRelay, RelayError, type RelayResponse } from './index';
const relay = createRelay({ baseUrl: 'https://relay.example.cn', arrayFormat: 'brackets' });
relay.interceptors.request.use((config) => ({ ...config, header: { ...config.header, 'X-Page': 'home' } }));
const call = relay.get<{ id: number }>('api/users', { page: 1, filter: { status: 'open' } }, { timeout: 5000 });
call.abort();
call.then((res: RelayResponse<{ id: number }>) => res.data.id, (error: unknown) => (error instanceof RelayError ? error.errno : undefined));
relay.delete<{ ok: boolean }>('api/users/1', { soft: 1 }).then((res) => res.data.ok);
relay.patch('api/users/1', { name: 'x' }, { header: { 'X-Page': 'home' } }).abort();
`,
  );
  const program = ts.createProgram([path.join(dir, 'page.ts')], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2017,
    lib: ['lib.es2017.d.ts'],
    types: ['miniprogram-api-typings'],
    typeRoots: [path.join(__dirname, '..', 'node_modules')],
    moduleResolution: ts.ModuleResolutionKind.Node10,
  });
  const problems = ts.getPreEmitDiagnostics(program).map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
  expect(problems).toEqual([]);
});
