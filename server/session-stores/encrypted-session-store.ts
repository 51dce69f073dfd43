import type { LogoutTokenClaims } from '@auth0/auth0-server-js'
import type { SessionStore, StateData, StoreOptions } from '@auth0/auth0-nuxt'
import { BackendGuard, BackendOutageError } from './backend-guard'
import type { RateLimiterAbstract } from 'rate-limiter-flexible'
import type { RateLimit, SessionBackend, StoredSession } from './session-backend'
import { describeDevice, type DeviceFacts } from './device'
import { SessionCrypto } from './session-crypto'
import { createdAtSeconds, nowInSeconds, sessionExpiresAt, type SessionDurations } from './session-expiry'
import { checkSessionId, serializeState } from './session-input'
import { logoutMatch, sessionKeys } from './session-index'
import { SessionStoreUnavailableError } from './session-store-errors'

/** How far the IdP's clock (a logout token's `iat`) may lag behind ours. */
const CLOCK_SKEW_SECONDS = 5

/** What the app may show about one of a user's sessions: never a token. */
export interface SessionSummary {
  id: string
  sid: string | undefined
  createdAt: number
  expiresAt: number
  /** The session holding the id token the caller passed: the one of this request. */
  current: boolean
  /** The device that signed in, when the session was created by a request (not by a script or a test). */
  device: DeviceFacts | undefined
}

/** StateData as this store keeps it: the SDK's, plus the device facts it records when a session begins. */
type StoredState = StateData & { device?: DeviceFacts }

export interface EncryptedSessionStoreOptions {
  /** The name shown in logs, /api/health and the profile page: `redis`, `postgres`, ... */
  name: string
  backend: SessionBackend
  /** What to do when the backend cannot be reached (the registry's start hint). */
  startHint: string
  secret: string
  durations: SessionDurations
  /** A call that takes longer fails as an outage. */
  timeoutMs: number
  /** The User-Agent of the request being served, if any: a new session records the device it describes. */
  userAgentOfRequest?: () => string | undefined
}

/**
 * The SDK's SessionStore over any SessionBackend: validates input, encrypts payloads, computes the
 * SDK's expiry, indexes sessions by keyed hashes of `sid` and `sub`, and bounds every call by a
 * deadline (a backend known to be down fails at once).
 */
export class EncryptedSessionStore implements SessionStore {
  readonly name: string
  readonly #backend: SessionBackend
  readonly #startHint: string
  readonly #crypto: SessionCrypto
  readonly #durations: SessionDurations
  readonly #guard: BackendGuard
  readonly #userAgentOfRequest: () => string | undefined

  constructor(options: EncryptedSessionStoreOptions) {
    this.name = options.name
    this.#backend = options.backend
    this.#startHint = options.startHint
    this.#crypto = new SessionCrypto(options.secret)
    this.#durations = options.durations
    this.#guard = new BackendGuard(options.timeoutMs)
    this.#userAgentOfRequest = options.userAgentOfRequest ?? (() => undefined)
  }

  get location(): string {
    return this.#backend.location
  }

  /**
   * Refused (nothing written, no error) when the id was ended: a refresh in flight cannot bring a
   * session back. A session written while serving a request (the SDK's sign-in, the move from a
   * stateless cookie) without device facts gets them from its User-Agent, sealed with the rest; the
   * SDK's later writes spread the state it read, so they keep them.
   */
  async set(identifier: string, stateData: StateData): Promise<void> {
    checkSessionId(identifier)
    const userAgent = (stateData as StoredState).device ? undefined : this.#userAgentOfRequest()
    const state: StoredState = userAgent === undefined ? stateData : { ...stateData, device: describeDevice(userAgent) }
    const json = serializeState(state)
    const now = nowInSeconds()
    const expiresAt = sessionExpiresAt(stateData, this.#durations, now)
    if (expiresAt <= now) return this.delete(identifier)
    const record = {
      id: identifier,
      sealed: this.#crypto.seal(identifier, json),
      expiresAt,
      keys: sessionKeys(stateData, this.#crypto),
    }
    await this.#call(() => this.#backend.write(record))
  }

  async get(identifier: string): Promise<StateData | undefined> {
    checkSessionId(identifier)
    const stored = await this.#call(() => this.#backend.read(identifier))
    return stored && this.#open(stored)
  }

  /** Logout at the app, or the SDK rotating the id at login: the id stays refused, so a write in flight cannot undo it. */
  async delete(identifier: string): Promise<void> {
    checkSessionId(identifier)
    await this.#call(() => this.#backend.remove(identifier))
  }

  /**
   * Ends the sessions the logout token names that existed when it was issued: a replayed token then
   * leaves sessions created after it alone. The back-channel route (server/middleware/backchannel-logout.ts)
   * verified the token and puts its `iat` on the event (`logoutTokenIssuedAt`).
   */
  async deleteByLogoutToken(claims: LogoutTokenClaims, options?: StoreOptions): Promise<void> {
    const match = logoutMatch(claims, this.#crypto)
    if (!match) return
    const issuedAt: unknown = options?.event?.context?.logoutTokenIssuedAt
    const createdUpTo = typeof issuedAt === 'number' && Number.isFinite(issuedAt) ? (issuedAt + CLOCK_SKEW_SECONDS) * 1000 : undefined
    await this.#call(() => this.#backend.revoke(match, createdUpTo))
  }

  /**
   * True the first time a logout token's `jti` from this issuer is seen, false for a replay, on every
   * app server: recorded in the store (as a keyed hash) until the token expires, plus the allowed skew.
   */
  async firstUseOfLogoutToken(issuer: string, jti: string, expiresAt: number): Promise<boolean> {
    const seconds = Math.max(1, Math.ceil(expiresAt - nowInSeconds()) + CLOCK_SKEW_SECONDS)
    const key = this.#crypto.indexKey('jti', `${issuer}\0${jti}`)
    return this.#call(() => this.#backend.recordOnce(key, seconds))
  }

  /**
   * Claims the move of a session from the SDK's stateless cookie (`cookie`, its chunks joined) into
   * this store: the id the session gets, derived from the cookie so that every request carrying it
   * agrees, and whether this call claimed it first. The claim lasts while the cookie still opens
   * (`opensUntil`): a cookie moved once is never moved again, even after its session ended.
   * Why: docs/decisions/003-stateless-cookie-migration.md.
   */
  async claimStatelessCookie(cookie: string, opensUntil: number): Promise<{ id: string, first: boolean }> {
    const seconds = Math.max(1, Math.ceil(opensUntil - nowInSeconds()) + CLOCK_SKEW_SECONDS)
    const key = this.#crypto.indexKey('stateless-cookie', cookie)
    const first = await this.#call(() => this.#backend.recordOnce(key, seconds))
    return { id: this.#crypto.derivedSessionId(cookie), first }
  }

  /** A rate limiter counting in this store, shared by every app server that uses it. */
  rateLimiter(limit: RateLimit): RateLimiterAbstract {
    return this.#backend.rateLimiter(limit)
  }

  /**
   * The name a page may use for one session (the devices page): derived from the id with a key of
   * the store's, so it cannot be turned back into the id, which is what the cookie points at.
   */
  handleOf(id: string): string {
    return this.#crypto.indexKey('session-handle', id).slice('session-handle:'.length, 'session-handle:'.length + 22)
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
              device: (state as StoredState).device,
            }]
          : []
      })
      .sort((a, b) => b.createdAt - a.createdAt)
  }

  /** The scheduled task's work: it may take longer than one call's deadline, and says nothing of an outage. */
  prune(): Promise<number> {
    return this.#backend.prune()
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

  /** Outages become SessionStoreUnavailableError (a 503 naming the store); bugs pass through as they are. */
  async #call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await this.#guard.run(operation)
    }
    catch (error) {
      if (!(error instanceof BackendOutageError)) throw error
      throw new SessionStoreUnavailableError(
        `The ${this.name} session store at ${this.#backend.location} is unavailable: ${error.message}. ${this.#startHint}`,
        { cause: error })
    }
  }
}
