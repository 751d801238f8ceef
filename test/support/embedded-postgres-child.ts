/**
 * Run as a child process by the embedded-postgres tests: starts the embedded server, asks it one
 * question, stops it. Prints one JSON line, the answer and which binary the backend runs as which
 * user (from /proc, readable as root), or the error's name and message, with exit code 1.
 */
import { readFile, readlink } from 'node:fs/promises'
import pg from 'pg'
import { startEmbeddedPostgres } from '../../src/cli/embedded/start.js'

async function main(): Promise<void> {
  const database = await startEmbeddedPostgres()
  try {
    const client = new pg.Client({ connectionString: database.url })
    await client.connect()
    try {
      const { rows } = await client.query<{ answer: number; pid: number }>('SELECT 1 AS answer, pg_backend_pid() AS pid')
      const { answer, pid } = rows[0]!
      const exe = await readlink(`/proc/${pid}/exe`)
      const uid = Number(/^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1])
      console.log(JSON.stringify({ answer, exe, uid }))
    } finally {
      await client.end()
    }
  } finally {
    await database.stop()
  }
}

main().catch((error: unknown) => {
  const { name, message } = error instanceof Error ? error : { name: typeof error, message: String(error) }
  console.log(JSON.stringify({ name, message }))
  process.exitCode = 1
})
