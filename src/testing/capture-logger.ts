/** A logger that keeps what it is told, for asserting on warnings and silencing test output. */
import type { Logger } from '../observe/logger.js'

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error'
  message: string
}

export interface CapturedLogger extends Logger {
  readonly entries: LogEntry[]
  /** Messages at one level. */
  messages(level: LogEntry['level']): string[]
}

export function captureLogger(): CapturedLogger {
  const entries: LogEntry[] = []
  const at = (level: LogEntry['level']) => (message: string) => void entries.push({ level, message })
  return {
    entries,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    messages: (level) => entries.filter((e) => e.level === level).map((e) => e.message),
  }
}
