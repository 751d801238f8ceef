/**
 * How a failure becomes an answer: the handler's own choices as they are, library errors with
 * the status that goes with their code and their message (it says what to fix), a database out
 * of reach as a 503, and anything else as a generic 500 whose details go only to the log.
 */
import { isConfigurationError, isSchedulerError } from '../error-guards.js'
import { isTransientDbError } from '../db/transient.js'
import { isPermissionDenied, PRIVILEGES_SECTION } from '../db/privileges.js'
import type { Logger } from '../observe/logger.js'
import { AdminHttpError, json } from './http.js'
import type { AdminErrorBody, AdminErrorCode } from './http.js'

const LIBRARY_ERRORS: Partial<Record<string, readonly [number, AdminErrorCode]>> = {
  NOT_FOUND: [404, 'NOT_FOUND'],
  CONFIGURATION: [400, 'INVALID_INPUT'],
  NOT_STARTED: [503, 'NOT_STARTED'],
  // A call for the subscription is in flight: the same request succeeds once it has settled.
  SUBSCRIPTION_BUSY: [409, 'SUBSCRIPTION_BUSY'],
  // Paused, ended or inactive: the same request succeeds once that has changed.
  SUBSCRIPTION_STATE: [409, 'SUBSCRIPTION_STATE'],
  // The subscription's own data (its frequency, say) keeps it from running: fix the row, then ask again.
  SUBSCRIPTION_DATA: [422, 'SUBSCRIPTION_DATA'],
  // Calls are paused fleet-wide: the same request succeeds once they are resumed.
  CALLS_PAUSED: [409, 'CALLS_PAUSED'],
}

function errorBody(code: AdminErrorCode, message: string, field: string | undefined): AdminErrorBody {
  return { error: field === undefined ? { code, message } : { code, message, field } }
}

/** SQLSTATEs of a connection the server refused: no such database, or credentials it does not take. */
const REFUSED_CONNECTION = new Set(['3D000', '28000', '28P01'])

function isRefusedConnection(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && REFUSED_CONNECTION.has(code)
}

/**
 * Library errors keep their message (they say what to fix); anything else is logged and answered
 * with a generic message, so that internals (SQL, hosts, stack traces) never reach the client.
 */
export function errorResponse(error: unknown, logger: Logger): Response {
  if (error instanceof AdminHttpError) {
    return json(error.status, errorBody(error.code, error.message, error.field), error.headers)
  }
  if (isSchedulerError(error)) {
    const mapped = LIBRARY_ERRORS[error.code]
    // A ConfigurationError names the option it refused, which is the field the request sent.
    if (mapped) return json(mapped[0], errorBody(mapped[1], error.message, isConfigurationError(error) ? error.option : undefined))
  }
  // An outage (refused, dropped or timed-out connections, a restarting server) or a connection
  // the server refused (no such database or role, a wrong password): the database is out of
  // reach, which the log says why; not a bug of the request. Its address stays in the log.
  if (isTransientDbError(error) || isRefusedConnection(error)) {
    logger.warn(`Admin request failed, the database being unavailable: ${error instanceof Error ? error.message : String(error)}`)
    return json(503, errorBody('DATABASE_UNAVAILABLE', 'The database could not be reached, or refused the connection; the server log has the cause.', undefined), { 'retry-after': '5' })
  }
  // A grant missing on the server's side (revoked since start(), which checks them): the fix is the DBA's.
  if (isPermissionDenied(error)) {
    logger.error(`Admin request failed: the database user lacks a privilege (${(error as Error).message}): grant it what ${PRIVILEGES_SECTION} lists.`)
    return json(500, errorBody('DATABASE_PRIVILEGE', 'The database user lacks a privilege this request needs; the server log names it.', undefined))
  }
  logger.error(`Admin request failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
  return json(500, { error: { code: 'INTERNAL', message: 'The request failed on the server; its log has the details.' } })
}

