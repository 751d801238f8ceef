/**
 * How error messages word what they quote: a value as given (`shown`), a duration (`seconds`),
 * and a configuration error's reason without the option it names, for a message that names the
 * option another way.
 */

/** `4.2 s`: how messages and log lines say a wait or a duration. */
export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

/**
 * A value as an error message shows it: strings quoted, `NaN`, `Infinity` and BigInts as written,
 * an invalid Date said so. JSON alone shows NaN as `null`, and throws on a BigInt or a cycle.
 */
export function shown(value: unknown): string {
  if (typeof value === 'number') return String(value)
  if (typeof value === 'bigint') return `${value}n`
  if (value === undefined) return 'undefined'
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'symbol') return value.toString()
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : value.toISOString()
  // Plain data is shown as JSON; a Map or class instance by its tag, since its JSON says nothing.
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const proto: unknown = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== null) {
      const tag = String(value)
      // An instance of a class of its own says nothing by its tag: its class's name does.
      const name: unknown = (value as { constructor?: { name?: unknown } }).constructor?.name
      return tag === '[object Object]' && typeof name === 'string' && name !== '' ? `a ${name}` : tag
    }
  }
  try {
    return JSON.stringify(value)
  } catch {
    // Circular, or nested past the stack (a request body of 5,000 brackets): String() of such an
    // array overflows too, and "[object Object]" says nothing.
    return `${Array.isArray(value) ? 'an array' : 'an object'} that cannot be shown as JSON (circular, or nested too deeply)`
  }
}

/**
 * What a ConfigurationError says of its option, without `Invalid option \`name\`: `: for a
 * message that names the option another way (a flag, a file's line, an entry). Any other error's
 * message is returned as it is.
 */
export function configurationReason(error: Error): string {
  return error.message.replace(/^Invalid option `[^`]+`: /, '')
}
