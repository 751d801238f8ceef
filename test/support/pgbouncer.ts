/**
 * A PgBouncer of the test's own in transaction mode, in front of one test database, where the
 * machine has PgBouncer (Debian's package: /usr/sbin/pgbouncer). Each statement outside a
 * transaction may then go to another server connection, as it does in production setups.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const PGBOUNCER_PATH = process.env.PGBOUNCER_PATH ?? '/usr/sbin/pgbouncer'

/** Why the PgBouncer tests cannot run here, or undefined when they can. */
export function pgbouncerUnavailable(): string | undefined {
  return existsSync(PGBOUNCER_PATH) ? undefined : `no PgBouncer at ${PGBOUNCER_PATH} (apt-get install pgbouncer, or set PGBOUNCER_PATH)`
}

export interface Bouncer {
  /** The database's URL through PgBouncer. */
  url: string
  close(): Promise<void>
}

async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

async function answering(port: number, deadlineMs: number, child: ChildProcess, output: () => string): Promise<void> {
  const until = Date.now() + deadlineMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`PgBouncer exited with ${child.exitCode}: ${output()}`)
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end()
        resolve(true)
      })
      socket.on('error', () => resolve(false))
    })
    if (open) return
    if (Date.now() > until) throw new Error(`PgBouncer did not listen on ${port} within ${deadlineMs} ms: ${output()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Starts PgBouncer in transaction mode in front of `databaseUrl`, with `poolSize` server connections. */
export async function startBouncer(databaseUrl: string, poolSize = 10): Promise<Bouncer> {
  const target = new URL(databaseUrl)
  const name = target.pathname.slice(1)
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'pss-pgbouncer-'))
  // Run as root, PgBouncer drops to `nobody`, who must read its files.
  chmodSync(dir, 0o755)
  const server = [
    `host=${target.hostname}`, `port=${target.port || 5432}`, `dbname=${name}`, `user=${decodeURIComponent(target.username || 'postgres')}`,
    ...(target.password ? [`password=${decodeURIComponent(target.password)}`] : []),
  ].join(' ')
  writeFileSync(join(dir, 'users.txt'), '', { mode: 0o644 })
  writeFileSync(join(dir, 'pgbouncer.ini'), [
    '[databases]', `${name} = ${server}`,
    '[pgbouncer]', 'listen_addr = 127.0.0.1', `listen_port = ${port}`, "unix_socket_dir = ''",
    'auth_type = any', `auth_file = ${join(dir, 'users.txt')}`, 'pool_mode = transaction',
    `default_pool_size = ${poolSize}`, 'max_client_conn = 200', 'server_idle_timeout = 5',
    'ignore_startup_parameters = extra_float_digits,options', '',
  ].join('\n'), { mode: 0o644 })
  const asRoot = process.getuid?.() === 0 ? ['-u', 'nobody'] : []
  const child = spawn(PGBOUNCER_PATH, [...asRoot, join(dir, 'pgbouncer.ini')], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)))
  await answering(port, 10_000, child, () => output)
  const url = new URL(databaseUrl)
  url.hostname = '127.0.0.1'
  url.port = String(port)
  return {
    url: url.toString(),
    async close() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGINT')
        await exited
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
