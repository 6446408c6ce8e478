// Bundles each function into its own self-contained CommonJS file, deployable alone:
//   dist/<fn>/index.js and dist/<fn>.zip  for get, post, put, getDownImg, delete (FC, SCF, Lambda)
//   dist/web/ and dist/web.zip            server mode: all five on one server (FC custom runtime, SCF web function)
//   dist/server/index.js                  `npm start`
//   dist/emulator/index.js                `npm run emulate`
//   dist/client/index.js (+ .d.ts)      the mini program client (also client/miniprogram_dist, the npm package's)
//   dist/tools/*.mjs                      `npm run deploy:aliyun`, `deploy:tencent`, `smoke`, `simulate`
// Type-checking is `tsc` (see `npm run build`); esbuild only strips types, which keeps this fast.
import { build } from 'esbuild';
import { generateDtsBundle } from 'dts-bundle-generator';
import ts from 'typescript';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createZip } from './zip.mjs';

const FUNCTIONS = ['get', 'post', 'put', 'getDownImg', 'delete'];

const entries = {
  ...Object.fromEntries(FUNCTIONS.map((name) => [name, `functions/${name}.ts`])),
  web: 'functions/web.ts',
  server: 'functions/local/main.ts',
  emulator: 'functions/local/emulator/main.ts',
};

await Promise.all(
  Object.entries(entries).map(([name, entry]) =>
    build({
      entryPoints: [entry],
      outfile: `dist/${name}/index.js`,
      bundle: true,
      platform: 'node',
      // The oldest Node.js our users run on Aliyun FC and Tencent SCF.
      target: 'node18',
      format: 'cjs',
      minify: true,
      // Function bundles get the map beside them (not in their zip); the local tools point to theirs,
      // so --enable-source-maps gives readable stacks.
      sourcemap: FUNCTIONS.includes(name) ? 'external' : 'linked',
      legalComments: 'none',
      logLevel: 'warning',
      // The function entries assign module.exports (see functions/get.ts); in a CommonJS bundle it is the module's own.
      logOverride: { 'commonjs-variable-in-esm': 'silent' },
    }),
  ),
);

// Deploy and smoke tools run from a checkout, so their dependencies stay in node_modules.
const TOOLS = { 'deploy-aliyun': 'scripts/deploy/aliyun.ts', 'deploy-tencent': 'scripts/deploy/tencent.ts', smoke: 'scripts/smoke.ts', simulate: 'scripts/simulate/main.ts' };
await Promise.all(
  Object.entries(TOOLS).map(([name, entry]) =>
    build({
      entryPoints: [entry],
      outfile: `dist/tools/${name}.mjs`,
      bundle: true,
      packages: 'external',
      platform: 'node',
      target: 'node18',
      format: 'esm',
      sourcemap: 'linked',
      logLevel: 'warning',
    }),
  ),
);

// The mini program client, as the npm package in client/ ships it (client/miniprogram_dist, what the
// developer tools' 构建 npm copies) and as dist/client (what tests and the example use): one self-contained
// CommonJS file whose syntax is ES5 (bundled by esbuild, then lowered by TypeScript, since esbuild does not
// lower to ES5), and one .d.ts with the types inlined. `tsc -p client` (run first by `npm run build`)
// type-checks it.
const bundled = await build({
  entryPoints: ['client/index.ts'],
  bundle: true,
  platform: 'neutral',
  target: 'es2017',
  format: 'cjs',
  write: false,
  logLevel: 'warning',
});
const clientJs = ts.transpileModule(bundled.outputFiles[0].text, {
  compilerOptions: { target: ts.ScriptTarget.ES5, module: ts.ModuleKind.None, removeComments: false, importHelpers: false, downlevelIteration: true },
}).outputText;
const clientDts = generateDtsBundle([{ filePath: 'client/index.ts', output: { noBanner: true } }], { preferredConfigPath: 'client/tsconfig.json' })[0];
for (const dir of ['dist/client', 'client/miniprogram_dist']) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/index.js`, clientJs);
  writeFileSync(`${dir}/index.d.ts`, `/// <reference types="miniprogram-api-typings" />\n${clientDts}`);
}
// The example mini program loads the client the way a user would: one copied file.
mkdirSync('examples/miniprogram/libs', { recursive: true });
copyFileSync('dist/client/index.js', 'examples/miniprogram/libs/mp-relay.js');

// Upload-ready archives: index.js at the root (the handler is `index.handler` or `index.main_handler`).
const read = (file) => readFileSync(file);
for (const name of FUNCTIONS) {
  writeFileSync(`dist/${name}.zip`, createZip([{ name: 'index.js', data: read(`dist/${name}/index.js`) }]));
}
// Server mode: one archive for both platforms, each starting it through its own bootstrap.
const BOOTSTRAPS = { scf_bootstrap: 'scripts/scf_bootstrap', bootstrap: 'scripts/fc_bootstrap' };
for (const [name, source] of Object.entries(BOOTSTRAPS)) {
  copyFileSync(source, `dist/web/${name}`);
  chmodSync(`dist/web/${name}`, 0o755);
}
writeFileSync(
  'dist/web.zip',
  createZip([
    ...Object.entries(BOOTSTRAPS).map(([name, source]) => ({ name, data: read(source), mode: 0o755 })),
    { name: 'index.js', data: read('dist/web/index.js') },
  ]),
);
