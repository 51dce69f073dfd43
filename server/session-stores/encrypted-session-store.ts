import type { LogoutTokenClaims } from '@auth0/auth0-server-js'
import type { SessionStore, StateData, StoreOptions } from '@auth0/auth0-nuxt'
import type { SessionBackend, StoredSession } from './session-backend'
import { SessionCrypto } from './session-crypto'
import { createdAtSeconds, nowInSeconds, sessionExpiresAt, type SessionDurations } from './session-expiry'
import { logoutMatch, revokedKey, sessionKeys } from './session-index'
import { SessionStoreUnavailableError } from './session-store-errors'

/** How far the IdP's clock (a logout token's `iat`) may lag behind ours. */
const CLOCK_SKEW_SECONDS = 5

/** How long a deleted id stays refused: longer than any request that could still write it. */
const DELETED_ID_SECONDS = 600

/** What the app may show about one of a user's sessions: never a token. */
export interface SessionSummary {
  id: string
  sid: string | undefined
  createdAt: number
  expiresAt: number
  /** The session holding the id token the caller passed: the one of this request. */
  current: boolean
}

export interface EncryptedSessionStoreOptions {
  /** The name shown in logs, /api/health and the profile page: `redis`, `postgres`, ... */
  name: string
  backend: SessionBackend
  secret: string
  durations: SessionDurations
}

/**
 * The SDK's SessionStore over any SessionBackend: encrypts payloads, computes the SDK's expiry,
 * indexes sessions by keyed hashes of `sid` and `sub`, and refuses to resurrect revoked sessions.
 */
export class EncryptedSessionStore implements SessionStore {
  readonly name: string
  readonly #backend: SessionBackend
  readonly #crypto: SessionCrypto
  readonly #durations: SessionDurations

  constructor(options: EncryptedSessionStoreOptions) {
    this.name = options.name
    this.#backend = options.backend
    this.#crypto = new SessionCrypto(options.secret)
    this.#durations = options.durations
  }

  get location(): string {
    return this.#backend.location
  }

  async set(identifier: string, stateData: StateData): Promise<void> {
    const now = nowInSeconds()
    const expiresAt = sessionExpiresAt(stateData, this.#durations, now)
    if (expiresAt <= now) return this.delete(identifier)
    await this.#call(() => this.#backend.write({
      id: identifier,
      sealed: this.#crypto.seal(identifier, JSON.stringify(stateData)),
      expiresAt,
      createdAt: createdAtSeconds(stateData),
      keys: sessionKeys(stateData, this.#crypto),
    }))
  }

  async get(identifier: string): Promise<StateData | undefined> {
    const stored = await this.#call(() => this.#backend.read(identifier))
    return stored && this.#open(stored)
  }

  /** Logout at the app, or the SDK rotating the id at login: a token refresh in flight cannot undo it. */
  async delete(identifier: string): Promise<void> {
    await this.#call(() => this.#backend.remove(identifier, nowInSeconds(), DELETED_ID_SECONDS))
  }

  /**
   * Ends the sessions the logout token names, as of when it was issued: a replayed token then
   * leaves sessions created after it alone. The SDK passes no `iat`; the back-channel route's
   * middleware puts it on the event (`logoutTokenIssuedAt`), after which the SDK verifies the token.
   */
  async deleteByLogoutToken(claims: LogoutTokenClaims, options?: StoreOptions): Promise<void> {
    const match = logoutMatch(claims, this.#crypto)
    if (!match) return
    const now = nowInSeconds()
    const issuedAt: unknown = options?.event?.context?.logoutTokenIssuedAt
    const revokedAt = typeof issuedAt === 'number' ? Math.min(now, issuedAt + CLOCK_SKEW_SECONDS) : now
    // A session cannot outlive its absolute duration, so neither need the revocation.
    await this.#call(() => this.#backend.revoke(match, revokedKey(match), revokedAt, this.#durations.absoluteDuration))
  }

  /** The user's live sessions, newest first, for the profile and demo pages. */
  async sessionsOf(sub: string, currentIdToken?: string): Promise<SessionSummary[]> {
    const stored = await this.#call(() => this.#backend.listByUser(this.#crypto.indexKey('sub', sub)))
    return stored
      .flatMap((session) => {
        const state = this.#open(session)
        return state
          ? [{
              id: session.id,
              sid: state.internal.sid,
              createdAt: createdAtSeconds(state),
              expiresAt: session.expiresAt,
              current: currentIdToken !== undefined && state.idToken === currentIdToken,
            }]
          : []
      })
      .sort((a, b) => b.createdAt - a.createdAt)
  }

  prune(): Promise<number> {
    return this.#call(() => this.#backend.prune())
  }

  /** Resolves when the backend answers; throws SessionStoreUnavailableError when it does not. */
  ping(): Promise<void> {
    return this.#call(() => this.#backend.ping())
  }

  close(): Promise<void> {
    return this.#backend.close()
  }

  /** Expiry is checked here too: a purge that lags must never hand back an expired session. */
  #open(stored: StoredSession): StateData | undefined {
    if (stored.expiresAt <= nowInSeconds()) return undefined
    const plaintext = this.#crypto.open(stored.id, stored.sealed)
    return plaintext === undefined ? undefined : JSON.parse(plaintext) as StateData
  }

  async #call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation()
    }
    catch (error) {
      if (error instanceof SessionStoreUnavailableError) throw error
      const reason = (error instanceof Error ? error.message : String(error)).replace(/\.$/, '')
      throw new SessionStoreUnavailableError(
        `The ${this.name} session store at ${this.#backend.location} did not answer: ${reason}. ${this.#backend.startHint}`,
        { cause: error })
    }
  }
}
