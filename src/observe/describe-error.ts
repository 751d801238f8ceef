/**
 * A thrown value as one line of text: what a failure's `error` column, its events, its log line
 * and its tracing span all say, so turning tracing on changes none of them. One line in fact:
 * a worker's error often quotes what it was sent, and a line feed or an escape sequence in it
 * must not forge a log line or drive the terminal that shows it (printable.ts).
 */
import { shown } from '../error-text.js'
import { isSchedulerError } from '../error-guards.js'
import { storableText } from '../db/storable.js'
import { oneLine } from '../printable.js'

/** Most characters of an error kept in the row's `error` column. */
const MAX_ERROR_LENGTH = 2000

/**
 * What a thrown value says: an Error's name and message, and, for an error of the host's own
 * (not one of ours, whose messages already say why), its `cause`; anything else as written
 * (`{"code":42}`, not `[object Object]`).
 */
function textOf(error: unknown, depth = 0): string {
  if (!(error instanceof Error)) return typeof error === 'string' ? error : shown(error)
  const own = `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`
  const cause = (error as { cause?: unknown }).cause
  if (cause === undefined || isSchedulerError(error) || depth >= 3) return own
  return `${own} (cause: ${textOf(cause, depth + 1)})`
}

/** A one-line description of any thrown value, bounded in length for the `error` column. */
export function describeError(error: unknown): string {
  const text = oneLine(textOf(error))
  return storableText(text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH)}… (truncated)` : text)
}

/** A refusal as the operator reads it: the database's message and its SQLSTATE, which says what kind of rule it was. */
export function refusalText(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  const message = error instanceof Error ? error.message : String(error)
  return typeof code === 'string' ? `${message} (SQLSTATE ${code})` : message
}
