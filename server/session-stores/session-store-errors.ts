/**
 * The session store cannot answer (down, unreachable, misconfigured). Pages and API routes turn it
 * into a 503 whose message says which store, where, and what to run.
 */
export class SessionStoreUnavailableError extends Error {
  override readonly name = 'SessionStoreUnavailableError'
  readonly statusCode = 503
  readonly statusMessage = 'Session store unavailable'

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}
