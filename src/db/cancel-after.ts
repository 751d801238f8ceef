/**
 * A view of the host's pool whose statements still running once `signal` has aborted are
 * cancelled, as psql's Ctrl-C cancels one: a CancelRequest on a connection of its own, which
 * PgBouncer passes on too. A statement waiting on a lock never fails by itself: a CI run's stop()
 * waited a whole test on a sweep whose next page waited on a host's ACCESS EXCLUSIVE lock, held
 * until after stop() resolved.
 *
 * Only what runs through the view is watched; the host's own statements on the same pool never
 * are. A statement is cancelled when it is still the one running at two looks {@link LOOK_MS}
 * apart after the abort: a short write made after it (a sweep's closing one) goes through.
 */
import pg from 'pg'
import type { Pool, PoolClient } from 'pg'

/** How often, once the signal has aborted, the view looks at the statements still running. */
export const LOOK_MS = 250

/** What node-postgres keeps on a client and does not declare: its session's key, and the statement it runs. */
interface ClientInternals {
  processID?: number | null
  secretKey?: unknown
  _getActiveQuery?: () => object | null | undefined
}

/** What a node-postgres client resolves of its options, and its connection, which its types leave out. */
interface CancellerInternals {
  host: string
  port: number
  connection: {
    on(event: 'connect' | 'error', listener: () => void): unknown
    connect(portOrPath: number | string, host?: string): void
    cancel(processID: number, secretKey: unknown): void
  }
}

/** The statement `client` runs, if any. */
const statementOf = (client: PoolClient): object | null => (client as ClientInternals)._getActiveQuery?.() ?? null

/**
 * Sends a CancelRequest for `client`'s session, as node-postgres's own Client#cancel does (which
 * reads a getter it deprecates). Best effort: a server or a pooler that refuses it leaves the
 * statement running, as before.
 */
function cancelRunning(pool: Pool, client: PoolClient): void {
  const { processID, secretKey } = client as ClientInternals
  if (processID === null || processID === undefined) return
  try {
    const canceller = new pg.Client((pool as unknown as { options: pg.ClientConfig }).options) as unknown as CancellerInternals
    const con = canceller.connection
    con.on('error', () => {})
    con.on('connect', () => con.cancel(processID, secretKey))
    if (canceller.host.startsWith('/')) con.connect(`${canceller.host}/.s.PGSQL.${canceller.port}`)
    else con.connect(canceller.port, canceller.host)
  } catch {
    // A client this driver does not know (pg-native): nothing to cancel with.
  }
}

/**
 * `pool`, seen through a view whose `connect()` (and so `query()`, which pg-pool runs through it)
 * keeps each client it hands out until it is released. Every other property reads through to the
 * pool itself: whether it ended, its counts, its options.
 */
export function cancelStatementsAfter(pool: Pool, signal: AbortSignal): Pool {
  const held = new Set<PoolClient>()
  // The statements running at the last look: one still running at the next is cancelled.
  let seen = new Map<PoolClient, object>()
  let timer: NodeJS.Timeout | undefined
  const look = () => {
    const running = new Map<PoolClient, object>()
    for (const client of held) {
      const query = statementOf(client)
      if (!query) continue
      if (seen.get(client) === query) cancelRunning(pool, client)
      else running.set(client, query)
    }
    seen = running
    timer = held.size > 0 ? setTimeout(look, LOOK_MS).unref() : undefined
  }
  const watch = () => {
    if (signal.aborted && !timer) look()
  }
  signal.addEventListener('abort', watch, { once: true })

  const keep = (client: PoolClient) => {
    held.add(client)
    const release = client.release
    client.release = (error?: Error | boolean) => {
      held.delete(client)
      seen.delete(client)
      return release.call(client, error)
    }
    watch()
    return client
  }
  const view = Object.create(pool) as Pool
  const connect = (callback?: (error: Error | undefined, client?: PoolClient, done?: () => void) => void) => {
    if (!callback) return pool.connect().then(keep)
    pool.connect((error, client) => {
      if (error || !client) return callback(error)
      keep(client)
      callback(undefined, client, (release?: Error | boolean) => client.release(release))
    })
    return undefined
  }
  view.connect = connect as Pool['connect']
  return view
}
