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
import { explainClaim } from '../lib/explain.js'
import { seedSubscriptions } from '../lib/seed.js'
import { flag, withScratchDatabase } from './support.js'

async function main(): Promise<void> {
  const n = flag('--n', 1_000_000)
  const limit = flag('--limit', 1000)
  await withScratchDatabase(async (db) => {
    const seeded = await seedSubscriptions(db.url, n, 'due')
    console.log(`Seeded ${seeded.rows} due rows in ${Math.round(seeded.ms)} ms.`)
    for (let i = 0; i < 3; i++) {
      const plan = await explainClaim(db.url, 'due', new Date(), limit)
      console.log(`claim page of ${limit}: ${plan.executionMs.toFixed(1)} ms; ${plan.scan}; plan ${plan.shape}`)
    }
  })
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
