/**
 * A migration, once landed, is never edited, renamed or removed: a database that applied it keeps
 * the old text in its journal, and the next version's migrations would not apply to it. A trial
 * upgraded a fleet from a build whose 0013 had since been rewritten (a column added to it, under a
 * later timestamp), and the new version's 0013 failed on a column the old one had added. Each
 * landed migration is pinned here by its timestamp and hash: change the schema with a new
 * migration (`npx drizzle-kit generate`), and add its line below.
 */
import { expect, test } from 'vitest'
import { MIGRATIONS } from '../../src/db/migrations.generated.js'

/** Tag, journal timestamp, and the first 16 hex digits of the file's sha256, oldest first. */
const LANDED: ReadonlyArray<readonly [string, number, string]> = [
  ['0000_init', 1795973854571, 'dc8d24ac32331659'],
  ['0001_operations', 1795974817387, '7b930e8fd43dd90f'],
  ['0002_sweep_heartbeat', 1795980335074, 'dda42aed040d7cfd'],
  ['0003_call_limits', 1795986230240, '2c11ce997ff70071'],
  ['0004_page_jobs', 1796030008703, '16ecdc636d47dedc'],
  ['0005_schedule_control', 1796035107035, '0c16e7f4b83ffbbe'],
  ['0006_host_foreign_key', 1796101508388, 'c197fb7660f2d394'],
  ['0007_lateness_max', 1796112038626, '809f07bfd305c7f9'],
  ['0008_published_retry', 1796143793810, '62df6ba1db746534'],
  ['0009_backfill_subscription', 1796146150603, '281b376ae7edb311'],
  ['0010_published_unknown_frequency', 1796147815685, '1175f49d9c0031e1'],
  ['0011_history_from_zone', 1796168784071, 'a3a5d01fdc9325f4'],
  ['0012_instances', 1796169767089, '855d90f92f2b1c4d'],
  ['0013_limits_seen_auto_enroll_published', 1796225293981, '7f3fa96095294142'],
  ['0014_pause_after_failures_published', 1796355354143, '613acdc9aa7e7119'],
  ['0015_history_note', 1796366330582, 'c74f6669fc3c72cc'],
  ['0016_adopted_defaults', 1796375578483, 'f83a890955bddfe8'],
  ['0017_instances_boss_schema', 1796391591228, '5f39f360a40f718c'],
  ['0018_catch_up_window_published', 1796401023343, '65d14bd318d32712'],
  ['0019_settings_whole_at', 1796402124643, 'bec738e5cde1bc37'],
  ['0020_failed_slot_retry_at', 1796526445260, '4615e6c95e70b31c'],
  ['0021_anchor_given', 1796537457229, '56d04833dc987a5f'],
  ['0022_calls_pause', 1796537743293, 'c812ec9ccf0e8d40'],
  ['0023_failed_rows_sort_at_retry', 1796544595143, 'bd1d6ada0b239c1d'],
  ['0024_failed_rows_retry_index', 1796546849159, '541a0acae0e0c9da'],
  ['0025_kept_next_run_at', 1796618323196, 'fcbeaa794688555b'],
  ['0026_first_run_for', 1796635364566, '42c64165dc9e55b6'],
]

test('every landed migration is still there, in order, with its timestamp and text', () => {
  const now = MIGRATIONS.slice(0, LANDED.length).map((m) => [m.tag, m.folderMillis, m.hash.slice(0, 16)] as const)
  expect(now, 'a landed migration was edited, renamed or removed: put the change in a new migration instead').toEqual(LANDED)
})

test('migrations after the landed ones are newer than all of them, so a database that applied those applies these', () => {
  const newest = Math.max(...LANDED.map(([, when]) => when))
  for (const m of MIGRATIONS.slice(LANDED.length)) expect(m.folderMillis, m.tag).toBeGreaterThan(newest)
})
