/** A mistake in the command line or the environment. Exit code 2, no stack trace. */
export class UsageError extends Error {
  override name = 'UsageError'
}
