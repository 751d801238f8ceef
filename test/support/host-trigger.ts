/**
 * A trigger of the host's on subscription_processing, as a host adds one to enforce a rule of its
 * own: `body` (PL/pgSQL) runs before each `event` of a row, `NEW` in hand, and may RAISE to
 * refuse it. Tests use it to make one row's insert, claim or settle fail, or slow.
 */
import type pg from 'pg'

export interface HostTrigger {
  /** Drops the trigger and its function; again is harmless. */
  drop(): Promise<void>
}

export async function addHostTrigger(pool: pg.Pool, name: string, event: 'INSERT' | 'UPDATE', body: string): Promise<HostTrigger> {
  await pool.query(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${body} RETURN NEW; END $$`)
  await pool.query(`CREATE TRIGGER ${name} BEFORE ${event} ON subscription_processing FOR EACH ROW EXECUTE FUNCTION ${name}()`)
  return {
    async drop() {
      await pool.query(`DROP TRIGGER IF EXISTS ${name} ON subscription_processing`)
      await pool.query(`DROP FUNCTION IF EXISTS ${name}()`)
    },
  }
}
