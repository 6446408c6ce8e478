// Jest transform: TypeScript (and the scripts' shared .mjs) to CommonJS with esbuild, the same compiler that builds the bundles
// (no second toolchain, no native package beyond esbuild's own). Types are checked by `tsc` in the build.
const { transformSync } = require('esbuild');

module.exports = {
  process(source, filename) {
    const { code, map } = transformSync(source, {
      loader: 'ts',
      format: 'cjs',
      target: 'node18',
      sourcemap: 'external',
      sourcefile: filename,
    });
    return { code, map };
  },
};
