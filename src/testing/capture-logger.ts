/** A logger that keeps what it is told, for asserting on warnings and silencing test output. */
import { format } from 'node:util'
import type { Logger } from '../observe/logger.js'

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error'
  message: string
}

export interface CapturedLogger extends Logger {
  // Wider than Logger's: anything a console prints, an Error included.
  debug(message: unknown, ...args: unknown[]): void
  info(message: unknown, ...args: unknown[]): void
  warn(message: unknown, ...args: unknown[]): void
  error(message: unknown, ...args: unknown[]): void
  readonly entries: LogEntry[]
  /** Messages at one level. */
  messages(level: LogEntry['level']): string[]
}

/**
 * Keeps every call's arguments as one string, as a console would print them: `info('%s done', id)`
 * keeps `"<id> done"`, and `error(new Error('x'))` keeps its text, not the object.
 */
const LEVELS: readonly unknown[] = ['debug', 'info', 'warn', 'error'] satisfies LogEntry['level'][]

export function captureLogger(): CapturedLogger {
  const entries: LogEntry[] = []
  const at = (level: LogEntry['level']) => (message: unknown, ...args: unknown[]) => void entries.push({ level, message: format(message, ...args) })
  return {
    entries,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    messages: (level) => {
      // A typo ('warning') would match nothing, and an assertion of no warnings would pass.
      if (!LEVELS.includes(level)) throw new TypeError(`captureLogger().messages: level must be one of ${LEVELS.join(', ')}, got ${String(level)}.`)
      return entries.filter((e) => e.level === level).map((e) => e.message)
    },
  }
}
