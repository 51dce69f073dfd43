import { setTimeout as sleep } from 'node:timers/promises'
import type { Auth0ClientOptions } from '@auth0/auth0-nuxt'
import { StatefulStateStore, StatelessStateStore, type SessionStore, type StateData } from '@auth0/auth0-server-js'
import { CookieJar, jarCookieHandler } from './cookie-jar'
import type { EncryptedSessionStore } from './encrypted-session-store'
import { createdAtSeconds, nowInSeconds, sessionExpiresAt, type SessionDurations } from './session-expiry'
import type { EnvReader } from './session-store-config'
import { serializeState } from './session-input'
import { SessionInputError } from './session-store-errors'

/** The SDK's session cookie (ServerClient's `stateIdentifier`; auth0-nuxt sets no other): stateless chunks are `<it>.0`, `<it>.1`, ... */
export const SESSION_COOKIE = '__a0_session'

const CHUNK = new RegExp(`^${SESSION_COOKIE}\\.(\\d+)$`)

// auth0-server-js opens cookies with jose's clockTolerance of 15 s: a cookie still opens that long after its exp.
const SDK_CLOCK_TOLERANCE_SECONDS = 15

// Another request that claimed the same cookie is writing it: wait for it, up to 1.6 s in all, longer
// than one store call may take by default (SESSION_STORE_TIMEOUT_MS).
const WAITS_FOR_OTHER_WRITER_MS = [0, 25, 50, 100, 200, 400, 800]

/**
 * What became of a request's stateless cookie: moved into the store by this request (`migrated`) or
 * by an earlier or concurrent one (`already_migrated`), or dropped (chunks deleted, the request
 * signed out) because it had `expired`, was `unreadable` (tampered, another app's, made with another
 * secret), its moved session has `ended` since, or it was `superseded` by a stateful cookie.
 */
export type MigrationOutcome = 'migrated' | 'already_migrated' | 'expired' | 'unreadable' | 'ended' | 'superseded'

/** SESSION_MIGRATE_STATELESS_COOKIES, on unless set to false. */
export function readMigrationSetting(env: EnvReader): boolean {
  return env.flag('SESSION_MIGRATE_STATELESS_COOKIES', true)
}

/** Whether the request carries the SDK's stateless session cookie (one chunk is enough). */
export function hasStatelessCookie(cookies: Record<string, string>): boolean {
  return Object.keys(cookies).some(name => CHUNK.test(name))
}

/** The request's stateless chunks, apart: the SDK's StatelessStateStore takes every cookie named like its own, the stateful one too. */
function statelessChunks(cookies: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(cookies).filter(([name]) => CHUNK.test(name)))
}

/** The chunks joined in order, as StatelessStateStore.get joins them. */
function joined(chunks: Record<string, string>): string {
  return Object.entries(chunks)
    .map(([name, value]) => ({ index: Number(CHUNK.exec(name)![1]), value }))
    .sort((a, b) => a.index - b.index)
    .map(chunk => chunk.value)
    .join('')
}

/** The SDK's StatefulStateStore, writing under an id chosen here: its own `set` draws a random one for a request that has none. */
class StatefulStoreWithId extends StatefulStateStore<CookieJar> {
  async setWithId(id: string, state: StateData, jar: CookieJar): Promise<void> {
    // `set` keeps the id the request's cookie names: let it name ours, in this request's view only.
    jar.seed(SESSION_COOKIE, await this.encrypt(SESSION_COOKIE, { id }, nowInSeconds() + 60))
    await this.set(SESSION_COOKIE, state, false, jar)
  }
}

/** A SessionStore for StatefulStateStore whose `set` is the step given; the SDK's `set` calls nothing else. */
function writingWith(set: (id: string, state: StateData) => Promise<void>): SessionStore<CookieJar> {
  const unused = () => Promise.reject(new Error('Not called while moving a stateless session into the store.'))
  return { set, get: unused, delete: unused, deleteByLogoutToken: unused }
}

/**
 * Moves a session from the SDK's stateless cookie into the store on the request that brings it,
 * driving the SDK's own cookie stores, so that cookies are opened and written exactly as the SDK
 * does. Once per cookie, even for concurrent requests; never for a cookie whose moved session has
 * ended since. Why it is safe: docs/decisions/003-stateless-cookie-migration.md.
 */
export class StatelessSessionMigration {
  readonly #store: EncryptedSessionStore
  readonly #durations: SessionDurations
  readonly #stateless: StatelessStateStore<CookieJar>
  readonly #writing: StatefulStoreWithId
  readonly #pointing: StatefulStoreWithId

  constructor(store: EncryptedSessionStore, sdk: Pick<Auth0ClientOptions, 'sessionSecret' | 'sessionConfiguration'>) {
    this.#store = store
    const configuration = { ...sdk.sessionConfiguration, secret: sdk.sessionSecret }
    // The SDK's defaults (AbstractSessionStore), for the expiry rule it applies to its cookies.
    this.#durations = {
      absoluteDuration: configuration.absoluteDuration ?? 259_200,
      inactivityDuration: configuration.inactivityDuration ?? 86_400,
      rolling: configuration.rolling ?? true,
    }
    this.#stateless = new StatelessStateStore(configuration, jarCookieHandler)
    this.#writing = new StatefulStoreWithId({ ...configuration, store: writingWith((id, state) => store.set(id, state)) }, jarCookieHandler)
    // Another request stored the session: only the cookie naming it is written.
    this.#pointing = new StatefulStoreWithId({ ...configuration, store: writingWith(async () => {}) }, jarCookieHandler)
  }

  /**
   * Moves the session of the jar's stateless cookie, if it has one, and leaves in the jar what the
   * browser and the rest of this request must see: the stateful cookie, no chunks. Undefined when
   * there is no stateless cookie. Throws SessionStoreUnavailableError when the store does not answer:
   * then apply nothing, and the browser keeps its cookie for the next try.
   */
  async migrate(jar: CookieJar): Promise<MigrationOutcome | undefined> {
    const chunks = new CookieJar(statelessChunks(jar.all()))
    if (!hasStatelessCookie(chunks.all())) return undefined
    // A sign-in since gave this browser a stateful cookie; the chunks are an older session's.
    if (jar.get(SESSION_COOKIE) !== undefined) return this.#deleteChunks(jar, chunks, 'superseded')

    const opened = await this.#open(chunks)
    if (typeof opened === 'string') return this.#deleteChunks(jar, chunks, opened)
    const { state, exp } = opened

    const { id, first } = await this.#store.claimStatelessCookie(joined(chunks.all()), exp + SDK_CLOCK_TOLERANCE_SECONDS)
    if (first) {
      await this.#writing.setWithId(id, state, jar)
      this.#log(id, state)
      return this.#deleteChunks(jar, chunks, 'migrated')
    }
    const stored = await this.#storedByAnotherRequest(id)
    if (!stored) return this.#deleteChunks(jar, chunks, 'ended')
    await this.#pointing.setWithId(id, stored, jar)
    return this.#deleteChunks(jar, chunks, 'already_migrated')
  }

  /** The cookie's StateData and expiry (its JWT `exp`), or why it cannot be moved. */
  async #open(chunks: CookieJar): Promise<{ state: StateData, exp: number } | 'expired' | 'unreadable'> {
    let payload: StateData | undefined
    try {
      payload = await this.#stateless.get(SESSION_COOKIE, chunks)
    }
    catch (error) {
      // The SDK throws on an expired cookie (and on a malformed one); it returns undefined for a tampered one.
      return (error as { code?: unknown }).code === 'ERR_JWT_EXPIRED' ? 'expired' : 'unreadable'
    }
    if (!payload) return 'unreadable'
    // `exp` is the JWT claim the SDK's encrypt added, not part of the session.
    const { exp, ...state } = payload
    try {
      serializeState(state)
    }
    catch (error) {
      if (error instanceof SessionInputError) return 'unreadable'
      throw error
    }
    if (typeof exp !== 'number') return 'unreadable'
    const now = nowInSeconds()
    if (sessionExpiresAt(state, this.#durations, now) <= now) return 'expired'
    return { state, exp }
  }

  /** The session a request that claimed the same cookie first stored, once it is there; undefined if it never appears (it ended since). */
  async #storedByAnotherRequest(id: string): Promise<StateData | undefined> {
    for (const wait of WAITS_FOR_OTHER_WRITER_MS) {
      if (wait) await sleep(wait)
      const state = await this.#store.get(id)
      if (state) return state
    }
    return undefined
  }

  /** Deletes the chunks (with the SDK's cookie options) from the browser and from this request. */
  async #deleteChunks(jar: CookieJar, chunks: CookieJar, outcome: MigrationOutcome): Promise<MigrationOutcome> {
    await this.#stateless.delete(SESSION_COOKIE, chunks)
    for (const { name, options } of chunks.changes) jar.delete(name, options)
    return outcome
  }

  /** One line per moved session: no token, no sub (a short keyed hash of it, the same for the same user). */
  #log(id: string, state: StateData): void {
    const sub = state.user?.sub
    const user = typeof sub === 'string' ? this.#store.userRef(sub) : 'unknown'
    const signedIn = new Date(createdAtSeconds(state) * 1000).toISOString()
    console.info(`[session-migration] moved a session from its stateless cookie into the ${this.#store.name} store: `
      + `session ${id.slice(0, 8)}…, user ${user}, signed in ${signedIn}.`)
  }
}
