/**
 * Text from outside (a worker's answer, a host's row, a note someone typed) shown to a person,
 * in a log line or on a terminal. Its control characters could forge a log line (a newline, then
 * "[info] Run … finished"), drive the terminal that prints it (an escape sequence that clears the
 * screen or rewrites what is on it), or, for the bidirectional overrides, make it read other than
 * it is. They are shown as escapes instead, the way JSON writes them.
 */

/** C0 and C1 controls, DEL, the line and paragraph separators, and the bidirectional marks and overrides. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/** The same, but for a line feed and a tab: what a terminal shows as text of ours, laid out. */
const UNSAFE_ON_A_TERMINAL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

function escaped(character: string): string {
  return NAMED[character] ?? `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`
}

/** `text` on one line, with nothing in it a log or a terminal would act on. */
export function oneLine(text: string): string {
  return text.replace(UNSAFE, escaped)
}

/**
 * Output of ours, for a terminal: its line feeds and tabs lay it out; any other control character
 * in it (which only data it quotes can have brought) is shown as an escape.
 */
export function forTerminal(text: string): string {
  return text.replace(UNSAFE_ON_A_TERMINAL, escaped)
}
