/**
 * Text from outside shown to a person: in a log line nothing it holds may start a line of its
 * own, and on a terminal nothing in it may drive the terminal, while our own layout (line feeds,
 * tabs) stays.
 */
import { expect, test } from 'vitest'
import { forTerminal, oneLine } from '../../src/printable.js'

test.each([
  { text: 'plain text, accents é and emoji 🙂', one: 'plain text, accents é and emoji 🙂', terminal: 'plain text, accents é and emoji 🙂' },
  { text: 'a\nb\r\nc\td', one: 'a\\nb\\r\\nc\\td', terminal: 'a\nb\\r\nc\td' },
  { text: '\u001b[2J\u001b]0;title\u0007', one: '\\u001b[2J\\u001b]0;title\\u0007', terminal: '\\u001b[2J\\u001b]0;title\\u0007' },
  { text: 'NUL\u0000 DEL\u007f CSI\u009b', one: 'NUL\\u0000 DEL\\u007f CSI\\u009b', terminal: 'NUL\\u0000 DEL\\u007f CSI\\u009b' },
  { text: 'bidi \u202eevil\u202c \u2066x\u2069 \u200f', one: 'bidi \\u202eevil\\u202c \\u2066x\\u2069 \\u200f', terminal: 'bidi \\u202eevil\\u202c \\u2066x\\u2069 \\u200f' },
  { text: 'separators \u2028 \u2029', one: 'separators \\u2028 \\u2029', terminal: 'separators \\u2028 \\u2029' },
])('$one', ({ text, one, terminal }) => {
  expect(oneLine(text)).toBe(one)
  expect(forTerminal(text)).toBe(terminal)
})
