import type { LogoutTokenClaims } from '@auth0/auth0-server-js'
import type { SessionStore, StateData, StoreOptions } from '@auth0/auth0-nuxt'
import { BackendGuard, BackendOutageError } from './backend-guard'
import type { RateLimiterAbstract } from 'rate-limiter-flexible'
import type { RateLimit, SessionBackend, StoredSession } from './session-backend'
import { ACTIVITY_KEEP, ACTIVITY_PREFIX, ACTIVITY_SECONDS, LAST_ACTIVE_PREFIX, type ActivityEvent, type ActivityType } from './activity'
import { describeDevice, type DeviceFacts } from './device'
import { NearCache } from './near-cache'
import { SessionCrypto } from './session-crypto'
import { createdAtSeconds, nowInSeconds, sessionExpiresAt, type SessionDurations } from './session-expiry'
import { checkSessionId, serializeState } from './session-input'
import { logoutMatch, sessionKeys } from './session-index'
import { SessionStoreUnavailableError } from './session-store-errors'

/** How far the IdP's clock (a logout token's `iat`) may lag behind ours. */
const CLOCK_SKEW_SECONDS = 5
/** A session's "last active" is written at most this often, per app server: reads stay reads. */
export const LAST_ACTIVE_EVERY_SECONDS = 300
/** Sessions whose last activity this process remembers writing; beyond it the oldest are forgotten (and written again sooner). */
const LAST_ACTIVE_REMEMBERED = 10_000

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
  /** Unix seconds: when a request last read the session (to within LAST_ACTIVE_EVERY_SECONDS), else when it was created; read only when asked for. */
  lastActiveAt: number
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
  /** The User-Agent of the request being served ('' if it sent none), undefined outside a request: a new session records the device it describes. */
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
  /** Session id → when this process last wrote its "last active" (Unix seconds); oldest first. */
  readonly #lastActiveWritten = new Map<string, number>()
  /** Activity log id → the last append queued for it: a user's appends run one at a time in this process (a read, then a write). */
  readonly #activityQueues = new Map<string, Promise<unknown>>()
  /** Opened sessions kept in this process, when the backend reports every change (REDIS_NEAR_CACHE). */
  readonly #nearCache: NearCache<{ state: StateData, expiresAt: number }> | undefined

  constructor(options: EncryptedSessionStoreOptions) {
    this.name = options.name
    this.#backend = options.backend
    this.#startHint = options.startHint
    this.#crypto = new SessionCrypto(options.secret)
    this.#durations = options.durations
    this.#guard = new BackendGuard(options.timeoutMs)
    this.#userAgentOfRequest = options.userAgentOfRequest ?? (() => undefined)
    this.#nearCache = options.backend.changes && new NearCache(options.backend.changes)
  }

  /** The near cache's counts, when it is on (/api/metrics). */
  get nearCache(): { hits: number, misses: number, size: number } | undefined {
    return this.#nearCache && { hits: this.#nearCache.hits, misses: this.#nearCache.misses, size: this.#nearCache.size }
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
    // While serving a request: a new id is a sign-in (or a stateless cookie moving in), and gets this
    // request's device, whatever the state carried over from an earlier session of this browser; a
    // session stored before devices were recorded gets one at its next write, with no event.
    const userAgent = this.#userAgentOfRequest()
    const begins = userAgent !== undefined && await this.#call(() => this.#backend.read(identifier)) === undefined
    const state: StoredState = begins || (userAgent !== undefined && !(stateData as StoredState).device)
      ? { ...stateData, device: describeDevice(userAgent) }
      : stateData
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
    // Before and after: a read of this id on its way in this process is not kept, nor what it got in between.
    this.#nearCache?.changed(identifier)
    const written = await this.#call(() => this.#backend.write(record)).finally(() => this.#nearCache?.changed(identifier))
    const sub = stateData.user?.sub
    if (begins && written && typeof sub === 'string') await this.recordActivity(sub, 'signed-in', { device: state.device })
  }

  async get(identifier: string): Promise<StateData | undefined> {
    checkSessionId(identifier)
    const cached = this.#nearCache?.get(identifier)
    if (cached) {
      this.#noteActive(identifier, cached.expiresAt)
      return cached.state
    }
    const ticket = this.#nearCache?.begin()
    const stored = await this.#call(() => this.#backend.read(identifier))
    const state = stored && this.#open(stored)
    if (state) {
      if (ticket !== undefined) this.#nearCache!.remember(identifier, ticket, { state, expiresAt: stored.expiresAt }, stored.expiresAt * 1000)
      this.#noteActive(identifier, stored.expiresAt)
    }
    return state
  }

  /**
   * Writes the session's "last active" record when this process has not in the last
   * LAST_ACTIVE_EVERY_SECONDS; not awaited, so a read costs no more than before, and a failure only
   * leaves the time older.
   */
  #noteActive(id: string, expiresAt: number): void {
    const now = nowInSeconds()
    const written = this.#lastActiveWritten.get(id)
    if (written !== undefined && now - written < LAST_ACTIVE_EVERY_SECONDS) return
    // Only while serving a request: a script or a test reading sessions is not their owner being active.
    if (this.#userAgentOfRequest() === undefined) return
    this.#lastActiveWritten.delete(id)
    this.#lastActiveWritten.set(id, now)
    if (this.#lastActiveWritten.size > LAST_ACTIVE_REMEMBERED) this.#lastActiveWritten.delete(this.#lastActiveWritten.keys().next().value!)
    const recordId = LAST_ACTIVE_PREFIX + id
    const record = { id: recordId, sealed: this.#crypto.seal(recordId, JSON.stringify({ at: now })), expiresAt, keys: { sids: [] } }
    this.#call(() => this.#backend.write(record)).catch(() => this.#lastActiveWritten.delete(id))
  }

  async #lastActiveOf(id: string): Promise<number | undefined> {
    const plaintext = await this.#readSealed(LAST_ACTIVE_PREFIX + id)
    return plaintext === undefined ? undefined : (JSON.parse(plaintext) as { at: number }).at
  }

  /** The plaintext of a record that is not a session (activity log, last active), or undefined: none, expired, or not ours. */
  async #readSealed(id: string): Promise<string | undefined> {
    const stored = await this.#call(() => this.#backend.read(id))
    return stored && this.#plaintextOf(stored)
  }

  /** How log lines name a user (SessionCrypto.logRef): the migration's and the activity log's lines agree. */
  userRef(sub: string): string {
    return this.#crypto.logRef(sub)
  }

  /**
   * Adds an event to the user's activity log: the newest ACTIVITY_KEEP events, sealed like a
   * session, kept ACTIVITY_SECONDS after the last one. One JSON line per event goes to the log,
   * naming the user by a short keyed hash, never by `sub`, e-mail or token. Never rejects: what it
   * records follows something already done (a sign-in, a sign-out), which a log that cannot be
   * written must not undo; the failure is logged instead.
   */
  recordActivity(sub: string, type: ActivityType, details: { device?: DeviceFacts, count?: number } = {}): Promise<void> {
    const event: ActivityEvent = { type, at: nowInSeconds(), device: details.device?.label, ...(details.count !== undefined && { count: details.count }) }
    console.info(JSON.stringify({ activity: type, user: this.userRef(sub), device: event.device, count: event.count, at: new Date(event.at * 1000).toISOString() }))
    const id = this.#activityId(sub)
    const append = async () => {
      const events = [event, ...await this.activityOf(sub)].slice(0, ACTIVITY_KEEP)
      const record = { id, sealed: this.#crypto.seal(id, JSON.stringify(events)), expiresAt: event.at + ACTIVITY_SECONDS, keys: { sids: [] } }
      await this.#call(() => this.#backend.write(record))
    }
    // One user's appends one after another in this process; other users' do not wait for them.
    const settled = (this.#activityQueues.get(id) ?? Promise.resolve()).then(append)
      .catch((error: unknown) => console.warn(`[activity] a ${type} event was not recorded: ${(error as Error).message}`))
    this.#activityQueues.set(id, settled)
    void settled.then(() => {
      if (this.#activityQueues.get(id) === settled) this.#activityQueues.delete(id)
    })
    return settled
  }

  /** The user's activity log, newest first. */
  async activityOf(sub: string): Promise<ActivityEvent[]> {
    const plaintext = await this.#readSealed(this.#activityId(sub))
    return plaintext === undefined ? [] : JSON.parse(plaintext) as ActivityEvent[]
  }

  #activityId(sub: string): string {
    return ACTIVITY_PREFIX + this.#crypto.indexKey('activity', sub).slice('activity:'.length)
  }

  /** Logout at the app, or the SDK rotating the id at login: the id stays refused, so a write in flight cannot undo it. */
  async delete(identifier: string): Promise<void> {
    checkSessionId(identifier)
    this.#nearCache?.changed(identifier)
    await this.#call(() => this.#backend.remove(identifier)).finally(() => this.#nearCache?.changed(identifier))
  }

  /**
   * Ends the sessions the logout token names that existed when it was issued: a replayed token then
   * leaves sessions created after it alone. The back-channel route (server/middleware/backchannel-logout.ts)
   * verified the token and puts its `iat` on the event (`logoutTokenIssuedAt`).
   */
  async deleteByLogoutToken(claims: LogoutTokenClaims, options?: StoreOptions): Promise<void> {
    await this.endByLogoutToken(claims, options)
  }

  /** deleteByLogoutToken(), saying how many sessions it ended. */
  async endByLogoutToken(claims: LogoutTokenClaims, options?: StoreOptions): Promise<number> {
    const match = logoutMatch(claims, this.#crypto)
    if (!match) return 0
    const issuedAt: unknown = options?.event?.context?.logoutTokenIssuedAt
    const createdUpTo = typeof issuedAt === 'number' && Number.isFinite(issuedAt) ? (issuedAt + CLOCK_SKEW_SECONDS) * 1000 : undefined
    // Which ids it ends is known only to the backend: this process keeps nothing read before it returns.
    this.#nearCache?.reset()
    return this.#call(() => this.#backend.revoke(match, createdUpTo)).finally(() => this.#nearCache?.reset())
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
  async sessionsOf(sub: string, currentIdToken?: string, options: { lastActive?: boolean } = {}): Promise<SessionSummary[]> {
    const stored = await this.#call(() => this.#backend.listByUser(this.#crypto.indexKey('sub', sub)))
    const summaries: SessionSummary[] = []
    for (const session of stored) {
      const state = this.#open(session)
      if (!state) continue
      const createdAt = createdAtSeconds(state)
      summaries.push({
        id: session.id,
        sid: state.internal.sid,
        createdAt,
        expiresAt: session.expiresAt,
        current: currentIdToken !== undefined && state.idToken === currentIdToken,
        device: (state as StoredState).device,
        lastActiveAt: createdAt,
      })
    }
    // The devices page only: one more read per session, ten at a time.
    if (options.lastActive) {
      for (let start = 0; start < summaries.length; start += 10) {
        await Promise.all(summaries.slice(start, start + 10).map(async (summary) => {
          summary.lastActiveAt = Math.max(summary.createdAt, await this.#lastActiveOf(summary.id) ?? 0)
        }))
      }
    }
    return summaries.sort((a, b) => b.createdAt - a.createdAt)
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
    const plaintext = this.#plaintextOf(stored)
    return plaintext === undefined ? undefined : JSON.parse(plaintext) as StateData
  }

  /** A record's plaintext, unless it expired or does not open (another secret, another id, damaged). */
  #plaintextOf(stored: StoredSession): string | undefined {
    return stored.expiresAt > nowInSeconds() ? this.#crypto.open(stored.id, stored.sealed) : undefined
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
