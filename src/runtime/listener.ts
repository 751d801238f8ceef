/**
 * pg-boss's LISTEN seam, for the host's pool: a connection of its own, opened the way the pool
 * opens its clients (its `Client` class and options), so a page a sweep enqueues on one instance
 * wakes the workers of every other at once instead of at their next poll.
 *
 * The notification is only a hint: workers still poll at `pollingIntervalSeconds`, so a listener
 * that is down costs latency, never a job. It reconnects on its own, with backoff, and pg-boss
 * has every worker fetch once after each reconnect (notifications sent meanwhile are lost).
 */
import type { Pool } from 'pg'
import type { Logger } from '../observe/logger.js'

export interface ListenHandle {
  close(): Promise<void>
}

interface NotifyingClient {
  connect(): Promise<void>
  query(text: string): Promise<unknown>
  end(): Promise<void>
  on(event: 'notification', listener: (message: { channel: string; payload?: string | undefined }) => void): void
  on(event: 'error' | 'end', listener: (error?: Error) => void): void
  removeAllListeners(): void
}

type ClientClass = new (options: unknown) => NotifyingClient

const MAX_BACKOFF_MS = 30_000

/** Ends a client we are done with; an error it emits later must not crash the host. */
async function quiet(client: NotifyingClient): Promise<void> {
  client.removeAllListeners()
  client.on('error', () => {})
  await client.end().catch(() => {})
}

/** Opens the listener; rejects when the first connection or LISTEN fails (pg-boss then only polls). */
export async function listen(pool: Pool, logger: Logger, channel: string, onNotification: (payload: string) => void, onReconnect: () => void): Promise<ListenHandle> {
  // pg-pool keeps the class it makes clients with; a pool without one cannot lend it.
  const Client = (pool as unknown as { Client?: ClientClass | undefined }).Client
  if (typeof Client !== 'function') throw new Error('the pool does not expose the Client class it connects with')
  let closed = false
  let client: NotifyingClient | null = null
  let retry: NodeJS.Timeout | undefined
  let attempt = 0

  const drop = (target: NotifyingClient, error?: Error) => {
    if (client !== target) return
    client = null
    quiet(target)
    if (closed) return
    logger.warn(`The LISTEN connection for job notifications dropped${error ? ` (${error.message})` : ''}; reconnecting, polling meanwhile.`)
    schedule()
  }
  const schedule = () => {
    if (closed || retry) return
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(attempt, 5))
    attempt += 1
    retry = setTimeout(() => {
      retry = undefined
      connect().then(onReconnect, () => schedule())
    }, delay)
    retry.unref()
  }
  const connect = async () => {
    const next = new Client({ ...pool.options, keepAlive: true })
    next.on('error', (error) => drop(next, error))
    next.on('end', () => drop(next))
    next.on('notification', (message) => {
      if (message.channel === channel && message.payload !== undefined) onNotification(message.payload)
    })
    client = next
    try {
      await next.connect()
      await next.query(`LISTEN "${channel.replaceAll('"', '""')}"`)
    } catch (error) {
      if (client === next) client = null
      await quiet(next)
      throw error
    }
    attempt = 0
  }

  await connect()
  return {
    async close() {
      closed = true
      clearTimeout(retry)
      const open = client
      client = null
      if (open) await quiet(open)
    },
  }
}
