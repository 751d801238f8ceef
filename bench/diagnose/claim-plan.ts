/**
 * Diagnosis: the plan of a sweep's claim page when the whole table is due at once (the herd),
 * at a size given by `--n`.
 *
 *   npx tsx bench/diagnose/claim-plan.ts [--n 1000000] [--limit 1000]
 *
 * The claim joins the host's `subscriptions` (active only). The page it wants is the first
 * `--limit` due rows by the due index's order; a plan that hashes or scans all of
 * `subscriptions` for every page costs O(N) per page, O(N²) per sweep.
 */
import { cloneDatabase, createTemplate, openServer } from '../lib/database.js'
import { explainClaim } from '../lib/explain.js'
import { seedSubscriptions } from '../lib/seed.js'

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(name)
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback
  return Number.isSafeInteger(value) && value > 0 ? value : fallback
}

async function main(): Promise<void> {
  const n = flag('--n', 1_000_000)
  const limit = flag('--limit', 1000)
  const server = await openServer()
  const template = await createTemplate(server)
  const db = await cloneDatabase(server, template)
  try {
    const seeded = await seedSubscriptions(db.url, n, 'due')
    console.log(`Seeded ${seeded.rows} due rows in ${Math.round(seeded.ms)} ms.`)
    for (let i = 0; i < 3; i++) {
      const plan = await explainClaim(db.url, 'due', new Date(), limit)
      console.log(`claim page of ${limit}: ${plan.executionMs.toFixed(1)} ms; ${plan.scan}; plan ${plan.shape}`)
    }
  } finally {
    await db.drop()
    await template.drop()
    await server.stop()
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
