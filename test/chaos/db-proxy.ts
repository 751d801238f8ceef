/**
 * A TCP proxy between the scheduler instances and PostgreSQL, so that the database can be made
 * unreachable for a while without touching the server others share: during a blackout every
 * open connection is cut and new ones are dropped as soon as they arrive.
 */
import net from 'node:net'
import type { AddressInfo } from 'node:net'

export interface DbProxy {
  /** `databaseUrl`, pointing at the proxy. */
  readonly url: string
  /** Cuts every connection and refuses new ones for `ms`; resolves when the database is back. */
  blackout(ms: number): Promise<void>
  /** Cuts every connection and refuses new ones until the returned function is called. */
  goDark(): () => void
  close(): Promise<void>
}

export async function startDbProxy(databaseUrl: string): Promise<DbProxy> {
  const target = new URL(databaseUrl)
  const targetPort = Number(target.port || 5432)
  const targetHost = target.hostname
  const sockets = new Set<net.Socket>()
  let dark = false

  const server = net.createServer((client) => {
    if (dark) {
      client.destroy()
      return
    }
    const upstream = net.connect(targetPort, targetHost)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      // A reset on one side ends both; the error itself is the point of the exercise.
      socket.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const proxied = new URL(databaseUrl)
  proxied.hostname = '127.0.0.1'
  proxied.port = String((server.address() as AddressInfo).port)

  const goDark = () => {
    dark = true
    for (const socket of sockets) socket.destroy()
    return () => {
      dark = false
    }
  }
  return {
    url: proxied.toString(),
    goDark,
    async blackout(ms) {
      const light = goDark()
      await new Promise((resolve) => setTimeout(resolve, ms))
      light()
    },
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
