import { H3Error } from 'h3'

/**
 * The session store cannot answer (down, hung, unreachable, misconfigured). An H3Error, so that the
 * SDK's routes, the pages and the API answer 503 with this message: the SDK calls the store inside
 * its own handlers, where a plain Error would become an anonymous 500.
 */
export class SessionStoreUnavailableError extends H3Error {
  override readonly name = 'SessionStoreUnavailableError'
  override statusCode = 503
  override statusMessage = 'Session store unavailable'
}

/**
 * The caller handed the store something it must not keep (an id or a StateData that cannot be a
 * session): a programming error, a 500, never reported as an outage. Nothing was written.
 */
export class SessionInputError extends Error {
  override readonly name = 'SessionInputError'
}
