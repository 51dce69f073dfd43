import type { IRateLimiterOptions, RateLimiterAbstract } from 'rate-limiter-flexible'
import type { LogoutMatch, SessionKeys } from './session-index'
import type { EnvReader } from './session-store-config'

/** One session as the store hands it to a backend: an opaque sealed payload, its expiry and its index keys. */
export interface SessionRecord {
  id: string
  sealed: Buffer
  /** Unix seconds; the backend expires the record natively then, and the store checks it on read too. */
  expiresAt: number
  keys: SessionKeys
}

export interface StoredSession {
  id: string
  sealed: Buffer
  expiresAt: number
  /** When the backend first stored this id, in milliseconds on the backend's own clock. */
  createdAt: number
}

/** How long an ended session's id stays refused: longer than any request that could still write it. */
export const TOMBSTONE_SECONDS = 600

/** `points` requests per `duration` seconds for each key, counted under `keyPrefix`; the insurance counts while the backend is down. */
export type RateLimit = Required<Pick<IRateLimiterOptions, 'keyPrefix' | 'points' | 'duration' | 'insuranceLimiter'>>

/** What the store tells every backend, whatever the database. */
export interface BackendLimits {
  /** A call that takes longer fails as an outage; drivers get it as their command and connect timeouts. */
  timeoutMs: number
  /** Live sessions one user may hold: writing a new one ends the oldest beyond this. */
  maxSessionsPerUser: number
}

/**
 * The storage side of a session store. Each backend is one file implementing this; the crypto, the
 * expiry rule, the deadlines and the SDK interface live in EncryptedSessionStore, once.
 *
 * A deleted or revoked session leaves a tombstone under its id for TOMBSTONE_SECONDS (backend-native
 * expiry, so app servers' clocks do not matter): a write of that id still in flight is refused, with
 * no time comparison. Writes are all-or-nothing (docs/decisions/002-exact-revocation.md).
 */
export interface SessionBackend {
  /** Where the data lives, fit for logs (no password). */
  readonly location: string
  /**
   * Stores the record and its index entries atomically, unless its id is a tombstone: then writes
   * nothing and returns false. A new id of a user who then holds more than `maxSessionsPerUser`
   * sessions ends (tombstones) the oldest ones.
   */
  write(record: SessionRecord): Promise<boolean>
  /** The live session, or undefined (none, a tombstone, or expired). */
  read(id: string): Promise<StoredSession | undefined>
  /** Ends the session and leaves its tombstone; ending an unknown id leaves a tombstone too. */
  remove(id: string): Promise<void>
  /**
   * Ends every live session matching all of `match`'s keys (through the index, never a scan) that the
   * backend first stored at or before `createdUpTo` (ms, backend clock; undefined: now), leaving
   * tombstones. Returns how many it ended. No command walks more than `maxSessionsPerUser` sessions.
   */
  revoke(match: LogoutMatch, createdUpTo: number | undefined): Promise<number>
  /** The live sessions indexed under a `sub` key, newest first, at most `maxSessionsPerUser`. */
  listByUser(subKey: string): Promise<StoredSession[]>
  /**
   * Records `key` for `seconds` (backend-native expiry) unless it is recorded already: true the first
   * time, false while it lasts. Atomic, so that of two app servers only one sees true (a logout token's jti).
   */
  recordOnce(key: string, seconds: number): Promise<boolean>
  /** A rate limiter (rate-limiter-flexible) counting in this backend, so that every app server shares the counts. */
  rateLimiter(limit: RateLimit): RateLimiterAbstract
  /** Deletes expired records where the backend does not do it natively; returns how many. */
  prune(): Promise<number>
  /** Resolves when the backend answers and is fit to keep sessions; throws with the reason otherwise. */
  ping(): Promise<void>
  /** Deletes everything this backend holds in its namespace (prefix, table, collection, folder). Tests and the bench only. */
  drop(): Promise<void>
  close(): Promise<void>
}

/**
 * One backend, as the registry (backends/index.ts) lists it: the only place its name, settings,
 * default address and start hint are spelled. The factory, the config, the tests and the bench
 * take their lists from the registry.
 */
export interface BackendDefinition<Settings = unknown> {
  /** The value of SESSION_STORE that selects it. */
  name: string
  /** Reads its settings from the environment; throws SessionStoreConfigError naming the variable. */
  settings(env: EnvReader): Settings
  /** Where it connects when nothing is set: docker-compose.yml's development server. */
  defaultLocation: string
  /** What to do when it cannot be reached. */
  startHint: string
  create(settings: Settings, limits: BackendLimits): SessionBackend
}

export function defineBackend<Settings>(definition: BackendDefinition<Settings>): BackendDefinition<Settings> {
  return definition
}
