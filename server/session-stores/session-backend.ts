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

/** A live session as another backend exported it: the sealed bytes and keyed hashes the store made, byte for byte. */
export interface ExportedSession {
  kind: 'session'
  id: string
  sealed: Buffer
  /** Unix seconds, as the store computed it (app servers' clock). */
  expiresAt: number
  /** When the source backend first stored the id (ms, its clock): kept, so a logout token's `iat` ends the same sessions. */
  createdAt: number
  keys: SessionKeys
}

/** An ended session's id, refused for `remainingMs` more (counted from the export). */
export interface ExportedTombstone {
  kind: 'tombstone'
  id: string
  remainingMs: number
}

/** A recordOnce() key (a logout token's jti), recorded for `remainingMs` more (counted from the export). */
export interface ExportedOnceKey {
  kind: 'once'
  key: string
  remainingMs: number
}

/** What `sessions:copy` moves between backends (docs/sessions-copy.md); rate-limit counters are not part of it. */
export type ExportedEntry = ExportedSession | ExportedTombstone | ExportedOnceKey

/**
 * What importing one entry did. Sessions: `copied`, or skipped because the id is `present` (a live
 * session, never overwritten), `tombstoned` in the target, or `over-cap` (its user already holds
 * their cap of newer sessions there). Tombstones: `copied`, `ended` (a live session of that id in the
 * target, brought by an earlier copy, ended), or `present`. Once-keys: `copied` or `present`.
 */
export type ImportOutcome = 'copied' | 'ended' | 'present' | 'tombstoned' | 'over-cap'

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
 * Every change to a session record, made by any app server or tool, as the backend itself reports it:
 * what lets a process keep opened sessions in memory (near-cache.ts). Only Redis has one (client
 * tracking), and only when REDIS_NEAR_CACHE=true.
 */
export interface ChangeFeed {
  /** How long one opened session may be served from memory, at most, whatever the feed says (ms). */
  readonly ttlMs: number
  /** How many opened sessions a process keeps, at most. */
  readonly maxEntries: number
  /**
   * True only while every change is being reported: each node's subscription confirmed and answering.
   * Reading it starts the feed.
   */
  readonly reliable: boolean
  /** `id` changed (written, ended, expired); undefined: anything may have changed (a connection lost or new, a flush). */
  onChange(listener: (id: string | undefined) => void): void
  close(): Promise<void>
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
   * Stores the record and its index entries, unless its id is a tombstone: then writes nothing and
   * returns false. All at once where the backend can (a transaction, one document); Redis, whose keys
   * may be on different Cluster masters, in the order docs/decisions/004-redis-cluster.md gives,
   * with the same guarantee: a revoke never misses a live session, and an ended one stays ended. A new id of a user who then holds more than `maxSessionsPerUser`
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
  /**
   * Every live session, tombstone and recordOnce() key, in batches of about `batchSize`, read without
   * blocking the backend (a scan or cursor, never one command over everything). Rate-limit counters are left out.
   */
  exportAll(batchSize: number): AsyncIterable<ExportedEntry[]>
  /**
   * Writes entries another backend exported, one after another, each as a write would (write()); one outcome per
   * entry, in order. A session is written only where its id is free (a live session or a tombstone
   * there wins), so a second run changes nothing; a tombstone ends a live session of its id (ids are
   * never reused: an end is final). A copied session keeps its createdAt and counts toward its user's
   * cap as a sign-in would: the oldest beyond it are ended. The caller leaves out expired sessions.
   */
  importEntries(entries: ExportedEntry[]): Promise<ImportOutcome[]>
  /** When configured: the feed of changes a near cache needs. */
  readonly changes?: ChangeFeed
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
