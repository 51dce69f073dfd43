import type { LogoutMatch, SessionKeys } from './session-index'

/** One session as a backend keeps it: an opaque sealed payload, its expiry and its index keys. */
export interface SessionRecord {
  id: string
  sealed: Buffer
  /** Unix seconds; the backend expires the record natively then, and the store checks it on read too. */
  expiresAt: number
  /** `internal.createdAt`, Unix seconds: a write is refused if one of `keys` was revoked at or after it. */
  createdAt: number
  keys: SessionKeys
}

export type StoredSession = Pick<SessionRecord, 'id' | 'sealed' | 'expiresAt'>

/**
 * The storage side of a session store. Each backend is one file implementing this; the crypto, the
 * expiry rule and the SDK interface live in EncryptedSessionStore, once.
 */
export interface SessionBackend {
  /** Where the data lives, fit for logs (no password). */
  readonly location: string
  /** What to run when the backend cannot be reached. */
  readonly startHint: string
  /**
   * Writes the record and its index entries atomically, unless one of its keys was revoked at or
   * after `createdAt`: then it deletes the record instead and returns false.
   */
  write(record: SessionRecord): Promise<boolean>
  read(id: string): Promise<StoredSession | undefined>
  /**
   * Deletes the session and revokes its id (`deletedIdKey`) at `removedAt` for `revocationSeconds`,
   * atomically: a write of it still in flight is refused. The SDK never writes a deleted id again.
   */
  remove(id: string, removedAt: number, revocationSeconds: number): Promise<void>
  /**
   * Deletes every session matching `match` that was created at or before `revokedAt` (through the
   * index, never a scan; a newer session is not the one the logout token meant), and records
   * `revokedKey` as revoked at `revokedAt` for `revocationSeconds`. Returns how many it deleted.
   */
  revoke(match: LogoutMatch, revokedKey: string, revokedAt: number, revocationSeconds: number): Promise<number>
  /** The sessions indexed under a `sub` key. */
  listByUser(subKey: string): Promise<StoredSession[]>
  /** Deletes expired records where the backend does not do it natively; returns how many. */
  prune(): Promise<number>
  ping(): Promise<void>
  close(): Promise<void>
}
