// Bundles each function into its own self-contained CommonJS file, deployable alone:
// dist/<fn>/index.js for get, post, put, getDownImg, and dist/server/index.js for `npm start`.
// Type-checking is `tsc` (see `npm run build`); esbuild only strips types, which keeps this fast.
import { build } from 'esbuild';

export const FUNCTIONS = ['get', 'post', 'put', 'getDownImg'];

const entries = {
  ...Object.fromEntries(FUNCTIONS.map((name) => [name, `functions/${name}.ts`])),
  server: 'functions/local/main.ts',
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
      sourcemap: 'external',
      legalComments: 'none',
      logLevel: 'warning',
    }),
  ),
);
