/**
 * The options the scheduler's methods take, checked as the scheduler's own options are: an
 * option no method knows (a typo, `offset` for `before`) is a ConfigurationError naming it and
 * the ones the method takes, never a silent default; a limit is a whole number in range.
 */
import { ConfigurationError } from '../errors.js'
import { shown } from '../error-text.js'
import type { NoteOption, PauseOptions, ResumeOptions, SkipOptions } from '../types.js'
import { nearestKey } from './suggest.js'
import { unstorableDate } from './dates.js'

/** `options` of `method()` (undefined: none), refused when it is no object or holds a key not in `known`. */
export function methodOptions<T extends object>(method: string, options: T | undefined, known: readonly (keyof T & string)[]): Partial<T> {
  if (options === undefined) return {}
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigurationError('options', `${method}() takes { ${known.join(', ')} } (each optional), got ${shown(options)}.`)
  }
  for (const key of Object.keys(options)) {
    if (!(known as readonly string[]).includes(key)) {
      const near = nearestKey(key, known)
      // With one option, the suggestion names it all: no "did you mean `wait`? It takes wait."
      const takes = known.length === 1 && near !== '' ? '' : near !== '' ? ` It takes ${known.join(', ')}.` : `; it takes ${known.join(', ')}.`
      throw new ConfigurationError(key, `unknown option of ${method}()${near}${takes}`)
    }
  }
  return options
}

/** A list's `limit` (`name` in messages): a whole number from `min`; more than 1000 reads 1000. */
export function limitOf(limit: unknown, fallback: number, name = 'limit', min = 1): number {
  const value = limit ?? fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ConfigurationError(name, `expected a whole number from ${min} (at most 1000 are listed), got ${shown(value)}.`)
  }
  return Math.min(value, 1000)
}

/** `listFailures()`'s `before`, when given: a failure entry's id, as `FailureRecord.id` has it. */
export function failureIdOf(value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !/^[1-9]\d{0,17}$/.test(value)) {
    throw new ConfigurationError('before', `expected the id of a failure entry (the \`id\` of the last FailureRecord of the page before, a string of at most 18 digits such as '1234'), got ${shown(value)}.`)
  }
  return value
}

/** A method's true-or-false option (`name` in messages), when given. */
export function booleanOf(value: unknown, name: string, meaning: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value
  throw new ConfigurationError(name, `expected true (${meaning}) or false, got ${shown(value)}.`)
}

/** The `wait` of a method that starts a run: false resolves with the run's id at once. */
export function waitOf(options: { wait?: unknown }): boolean | undefined {
  return booleanOf(options.wait, 'wait', 'resolve once the run has settled')
}

/** A method's instant argument (`name` in messages): a valid Date; a string is told how to pass it. */
export function requiredDateOf(value: unknown, name: string): Date {
  const wrong = unstorableDate(value)
  if (wrong === null) return value as Date
  const hint = typeof value === 'string' ? ` (a string: pass new Date(${JSON.stringify(value)}))` : ''
  throw new ConfigurationError(name, `expected ${wrong}, got ${shown(value)}${hint}.`)
}

/** A method's instant option (`name` in messages), when given: a valid Date. */
export function dateOf(value: unknown, name: string): Date | undefined {
  return value === undefined ? undefined : requiredDateOf(value, name)
}

/** `pause()`'s options: nothing, or a valid `until`. */
export function checkPauseOptions(options: PauseOptions | undefined): { until: Date | undefined; note: string | null } {
  const o = methodOptions('pause', options, ['until', 'note'])
  return { until: dateOf(o.until, 'until'), note: noteOf(o.note) }
}

/** `resume()`'s options: a note, and whether a pause under `catchUp: 'all'` forgives its slots. */
export function checkResumeOptions(options: ResumeOptions | undefined): { note: string | null; forgive: boolean } {
  const o = methodOptions('resume', options, ['note', 'forgive'])
  return { note: noteOf(o.note), forgive: booleanOf(o.forgive, 'forgive', "under catchUp 'all', do not call the slots the pause deferred") ?? false }
}

/** `skipNext()`'s options: nothing, or a valid `slot`, and a note. */
export function checkSkipOptions(options: SkipOptions | undefined): { slot: Date | undefined; note: string | null } {
  const o = methodOptions('skipNext', options, ['slot', 'note'])
  return { slot: dateOf(o.slot, 'slot'), note: noteOf(o.note) }
}

/** The longest note a control keeps. */
export const MAX_NOTE_LENGTH = 500

/** `resume()`'s and `reschedule()`'s options (`method`): nothing, or a note. */
export function checkNoteOption(method: string, options: NoteOption | undefined): string | null {
  return noteOf(methodOptions(method, options, ['note']).note)
}

/** A control's `note`: text of up to MAX_NOTE_LENGTH characters, not blank; null when not given. */
function noteOf(note: unknown): string | null {
  if (note === undefined) return null
  if (typeof note !== 'string' || note.trim() === '' || note.length > MAX_NOTE_LENGTH) {
    const got = typeof note === 'string' && note.length > MAX_NOTE_LENGTH ? `${note.length} characters` : shown(note)
    throw new ConfigurationError('note', `expected text of 1 to ${MAX_NOTE_LENGTH} characters (who asked, a ticket, why), got ${got}. Leave it out for none.`)
  }
  if (note.includes('\u0000')) throw new ConfigurationError('note', 'contains a NUL character (\\u0000), which Postgres cannot store in text: remove it.')
  return note.trim()
}
