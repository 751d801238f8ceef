/**
 * Scheduler instances as child processes (test/chaos/scheduler-process.ts), one process each.
 *
 * The script is bundled once with esbuild, with src/ and its packages (pg, pg-boss, drizzle-orm,
 * ...), and each child runs `node bundle.mjs`. Loading the same modules one file at a time took
 * 23 s per process with three starting at once on a loaded 2-core machine (drizzle-orm alone
 * is hundreds of files); the bundle loads in 3 s there. Without esbuild it falls back to
 * `node --import tsx` (CHAOS_CHILD_LOADER=tsx forces it). Never the `tsx` command: it runs the
 * script in a grandchild, which a SIGKILL of the child would leave running.
 */
import { spawn } from 'node:child_process'
import type { ChildProcessByStdio } from 'node:child_process'
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable, Writable } from 'node:stream'
import { fileURLToPath, pathToFileURL } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SCRIPT = fileURLToPath(new URL('./scheduler-process.ts', import.meta.url))

/** How to start the child script: the node arguments, and what to delete afterwards. */
export interface ChildEntry {
  args: string[]
  how: string
  dispose(): void
}

export async function prepareChildEntry(): Promise<ChildEntry> {
  const tsx = (reason: string): ChildEntry => ({
    args: ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href, SCRIPT],
    how: `node --import tsx (${reason})`,
    dispose() {},
  })
  if (process.env.CHAOS_CHILD_LOADER === 'tsx') return tsx('CHAOS_CHILD_LOADER=tsx')
  let build: typeof import('esbuild').build
  try {
    ;({ build } = await import('esbuild'))
  } catch (error) {
    return tsx(`esbuild unavailable: ${(error as Error).message}`)
  }
  const dir = mkdtempSync(join(tmpdir(), 'pss-chaos-'))
  const outfile = join(dir, 'scheduler-process.mjs')
  const started = Date.now()
  try {
    await build({
      entryPoints: [SCRIPT],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      // pg loads it only when asked for its native bindings, which nothing here does.
      external: ['pg-native'],
      // CommonJS packages in an ESM bundle still call require() for Node's own modules.
      banner: { js: "import { createRequire as __pssCreateRequire } from 'node:module'; const require = __pssCreateRequire(import.meta.url);" },
      sourcemap: 'inline',
      logLevel: 'silent',
      // src/migrate.ts finds the shipped migrations relative to its own URL, so in the bundle it
      // must still see the URL it has in src/. No other bundled module reads import.meta.url.
      define: { 'import.meta.url': JSON.stringify(pathToFileURL(join(ROOT, 'src', 'migrate.ts')).href) },
    })
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    return tsx(`bundling failed: ${(error as Error).message}`)
  }
  return {
    args: ['--enable-source-maps', outfile],
    how: `esbuild bundle, built in ${Date.now() - started} ms`,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  }
}

export interface ChildOptions {
  entry: ChildEntry
  name: string
  databaseUrl: string
  workerUrl: string
  schedulerOptions?: Record<string, unknown>
  env?: Record<string, string>
  /** Every line the child prints, stamped with the time, is appended here. */
  logFile?: string
}

export interface ChildExit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface LogLine {
  at: number
  level: string
  message: string
}

export class SchedulerChild {
  readonly name: string
  readonly logs: LogLine[] = []
  readonly runIds: string[] = []
  stderr = ''
  pid: number | undefined
  readonly exited: Promise<ChildExit>
  exit: ChildExit | undefined
  private readonly process: ChildProcessByStdio<Writable, Readable, Readable>
  /** Protocol lines (all but LOG), and whether a waitForLine() has taken each. */
  private readonly protocol: { line: string; taken: boolean }[] = []
  private readonly waiters = new Set<{ test: (line: string) => boolean; resolve: (line: string) => void }>()
  private buffer = ''
  private readonly logFile: string | undefined

  constructor(options: ChildOptions) {
    this.name = options.name
    this.logFile = options.logFile
    this.process = spawn(process.execPath, options.entry.args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        DATABASE_URL: options.databaseUrl,
        WORKER_URL: options.workerUrl,
        CHAOS_INSTANCE: options.name,
        SCHEDULER_OPTIONS: JSON.stringify(options.schedulerOptions ?? {}),
        ...options.env,
      },
    })
    this.pid = this.process.pid
    this.process.stdout.setEncoding('utf8')
    this.process.stderr.setEncoding('utf8')
    this.process.stdout.on('data', (chunk: string) => this.onStdout(chunk))
    this.process.stderr.on('data', (chunk: string) => {
      this.stderr += chunk
      this.record(`stderr ${chunk}`)
    })
    // Writing to a child that just died must not crash the test process.
    this.process.stdin.on('error', () => {})
    this.exited = new Promise((resolve) => {
      this.process.on('exit', (code, signal) => {
        this.exit = { code, signal }
        this.record(`exited ${JSON.stringify(this.exit)}`)
        resolve(this.exit)
      })
    })
  }

  private onStdout(chunk: string): void {
    this.buffer += chunk
    let newline: number
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline)
      this.buffer = this.buffer.slice(newline + 1)
      this.record(line)
      const log = /^LOG (\w+) (.*)$/.exec(line)
      if (log) this.logs.push({ at: Date.now(), level: log[1]!, message: log[2]! })
      if (log) continue
      const run = /^RUN ([0-9a-f-]{36})$/.exec(line)
      if (run) this.runIds.push(run[1]!)
      const entry = { line, taken: false }
      this.protocol.push(entry)
      for (const waiter of this.waiters) {
        if (waiter.test(line)) {
          entry.taken = true
          this.waiters.delete(waiter)
          waiter.resolve(line)
          break
        }
      }
    }
  }

  private record(line: string): void {
    if (this.logFile) appendFileSync(this.logFile, `${new Date().toISOString()} ${this.name} ${line.trimEnd()}\n`)
  }

  /**
   * Resolves with the first stdout line matching `pattern` that no earlier call took, printed
   * already or to come; rejects if the child exits first or time runs out.
   */
  async waitForLine(pattern: RegExp, timeoutMs: number): Promise<string> {
    const printed = this.protocol.find((entry) => !entry.taken && pattern.test(entry.line))
    if (printed) {
      printed.taken = true
      return printed.line
    }
    let waiter: { test: (line: string) => boolean; resolve: (line: string) => void } | undefined
    let timer: NodeJS.Timeout | undefined
    try {
      return await Promise.race([
        new Promise<string>((resolve) => {
          waiter = { test: (line) => pattern.test(line), resolve }
          this.waiters.add(waiter)
        }),
        this.exited.then((exit) => {
          throw new Error(`${this.name} exited (${JSON.stringify(exit)}) before printing ${pattern}; stderr:\n${this.stderr}`)
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${this.name} printed no ${pattern} within ${timeoutMs} ms; stderr:\n${this.stderr}`)), timeoutMs)
        }),
      ])
    } finally {
      if (waiter) this.waiters.delete(waiter)
      clearTimeout(timer)
    }
  }

  send(command: string): void {
    this.process.stdin.write(`${command}\n`)
  }

  get running(): boolean {
    return this.exit === undefined
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.process.kill(signal)
  }

  /** SIGTERM, then SIGKILL if it has not exited within `timeoutMs`. Resolves with how it exited. */
  async stop(timeoutMs: number): Promise<ChildExit> {
    if (!this.running) return this.exit!
    this.kill('SIGTERM')
    let timer: NodeJS.Timeout | undefined
    const forced = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs)
    })
    await Promise.race([this.exited, forced])
    clearTimeout(timer)
    if (this.running) this.kill('SIGKILL')
    return await this.exited
  }
}
