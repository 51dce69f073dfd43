import { H3Error } from 'h3'

/**
 * The session store cannot answer (down, unreachable, misconfigured). An H3Error, so that pages
 * and API routes answer 503 with this message (a plain Error would become an anonymous 500).
 */
export class SessionStoreUnavailableError extends H3Error {
  override readonly name = 'SessionStoreUnavailableError'
  override statusCode = 503
  override statusMessage = 'Session store unavailable'
}
