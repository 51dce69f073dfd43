import { createStorage, type Storage } from 'unstorage'
import fsLiteDriver from 'unstorage/drivers/fs-lite'
import type { SessionBackend, SessionRecord, StoredSession } from '../session-backend'
import { matchesLogout, type LogoutMatch, type SessionKeys } from '../session-index'
import { defineBackend } from '../session-backend'
const deletedIdKey = (id: string) => `id:${id}`
const keysOf = (keys: SessionKeys) => (keys.sub ? [...keys.sids, keys.sub] : keys.sids)
import { nowInSeconds } from '../session-expiry'

export interface EmbeddedSettings {
  /** Folder for the session files; they survive a dev-server restart. Default `.data/sessions`. */
  directory: string
}

interface EmbeddedRecord {
  sealed: string
  expiresAt: number
  createdAt: number
  keys: SessionKeys
}

interface Revocation {
  revokedAt: number
  expiresAt: number
}

/**
 * Sessions as files through unstorage, for development with no database. One process owns the
 * folder; its operations run one after another, which is what makes index updates atomic here.
 */
export class EmbeddedBackend implements SessionBackend {
  readonly location: string
  readonly startHint = 'Check that EMBEDDED_STORE_DIR is a folder this process can write to.'
  readonly #storage: Storage
  #queue: Promise<unknown> = Promise.resolve()

  constructor(options: EmbeddedSettings) {
    this.location = options.directory
    this.#storage = createStorage({ driver: fsLiteDriver({ base: options.directory }) })
  }

  #exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(operation)
    this.#queue = result.catch(() => undefined)
    return result
  }

  async #ids(key: string): Promise<string[]> {
    return (await this.#storage.getItem<string[]>(`index:${key}`)) ?? []
  }

  async #record(id: string): Promise<EmbeddedRecord | undefined> {
    const record = await this.#storage.getItem<EmbeddedRecord>(`session:${id}`)
    return record && record.expiresAt > nowInSeconds() ? record : undefined
  }

  async #removeRecord(id: string): Promise<boolean> {
    const record = await this.#storage.getItem<EmbeddedRecord>(`session:${id}`)
    if (!record) return false
    for (const key of keysOf(record.keys)) {
      const ids = (await this.#ids(key)).filter(other => other !== id)
      await (ids.length ? this.#storage.setItem(`index:${key}`, ids) : this.#storage.removeItem(`index:${key}`))
    }
    await this.#storage.removeItem(`session:${id}`)
    return true
  }

  async #isRevoked(key: string, createdAt: number): Promise<boolean> {
    const revocation = await this.#storage.getItem<Revocation>(`revoked:${key}`)
    return !!revocation && revocation.expiresAt > nowInSeconds() && createdAt <= revocation.revokedAt
  }

  write(record: SessionRecord): Promise<boolean> {
    return this.#exclusive(async () => {
      for (const key of [...keysOf(record.keys), deletedIdKey(record.id)]) {
        if (await this.#isRevoked(key, record.createdAt)) {
          await this.#removeRecord(record.id)
          return false
        }
      }
      await this.#removeRecord(record.id)
      await this.#storage.setItem<EmbeddedRecord>(`session:${record.id}`,
        { sealed: record.sealed.toString('base64'), expiresAt: record.expiresAt, createdAt: record.createdAt, keys: record.keys })
      for (const key of keysOf(record.keys)) {
        await this.#storage.setItem(`index:${key}`, [...await this.#ids(key), record.id])
      }
      return true
    })
  }

  read(id: string): Promise<StoredSession | undefined> {
    return this.#exclusive(async () => {
      const record = await this.#record(id)
      return record && { id, sealed: Buffer.from(record.sealed, 'base64'), expiresAt: record.expiresAt }
    })
  }

  remove(id: string, removedAt: number, revocationSeconds: number): Promise<void> {
    return this.#exclusive(async () => {
      await this.#storage.setItem<Revocation>(`revoked:${deletedIdKey(id)}`, { revokedAt: removedAt, expiresAt: removedAt + revocationSeconds })
      await this.#removeRecord(id)
    })
  }

  revoke(match: LogoutMatch, revokedKey: string, revokedAt: number, revocationSeconds: number): Promise<number> {
    return this.#exclusive(async () => {
      const previous = await this.#storage.getItem<Revocation>(`revoked:${revokedKey}`)
      await this.#storage.setItem<Revocation>(`revoked:${revokedKey}`, {
        revokedAt: Math.max(previous?.revokedAt ?? 0, revokedAt),
        expiresAt: Math.max(previous?.expiresAt ?? 0, revokedAt + revocationSeconds),
      })
      let deleted = 0
      for (const id of await this.#ids(revokedKey)) {
        const record = await this.#storage.getItem<EmbeddedRecord>(`session:${id}`)
        if (record && matchesLogout(record.keys, match) && record.createdAt <= revokedAt && await this.#removeRecord(id)) deleted++
      }
      return deleted
    })
  }

  listByUser(subKey: string): Promise<StoredSession[]> {
    return this.#exclusive(async () => {
      const sessions: StoredSession[] = []
      for (const id of await this.#ids(subKey)) {
        const record = await this.#record(id)
        if (record) sessions.push({ id, sealed: Buffer.from(record.sealed, 'base64'), expiresAt: record.expiresAt })
      }
      return sessions
    })
  }

  /** Files do not expire by themselves: the scheduled task `session-store:prune` deletes old ones. */
  prune(): Promise<number> {
    return this.#exclusive(async () => {
      const now = nowInSeconds()
      let pruned = 0
      for (const key of await this.#storage.getKeys('session')) {
        const record = await this.#storage.getItem<EmbeddedRecord>(key)
        if (record && record.expiresAt <= now && await this.#removeRecord(key.slice('session:'.length))) pruned++
      }
      for (const key of await this.#storage.getKeys('revoked')) {
        const revocation = await this.#storage.getItem<Revocation>(key)
        if (revocation && revocation.expiresAt <= now) await this.#storage.removeItem(key)
      }
      return pruned
    })
  }

  ping(): Promise<void> {
    return this.#exclusive(async () => {
      await this.#storage.setItem('health', nowInSeconds())
    })
  }

  async close(): Promise<void> {
    await this.#queue
    await this.#storage.dispose()
  }
}

// TEMPORARY STUB: being rewritten to the new SessionBackend interface.
export default defineBackend({
  name: 'embedded',
  settings: (env): EmbeddedSettings => ({ directory: env.string('EMBEDDED_STORE_DIR', '.data/sessions') }),
  defaultLocation: '.data/sessions',
  startHint: 'Check that EMBEDDED_STORE_DIR is a folder this process can write to.',
  create: settings => new EmbeddedBackend(settings) as never,
})
