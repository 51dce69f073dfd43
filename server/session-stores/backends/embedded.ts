import { access, constants, mkdir, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { lock } from 'proper-lockfile'
import { RateLimiterMemory } from 'rate-limiter-flexible'
import { createStorage, type Storage } from 'unstorage'
import fsLiteDriver from 'unstorage/drivers/fs-lite'
import {
  defineBackend, TOMBSTONE_SECONDS, type BackendLimits, type ExportedEntry, type ExportedSession, type ExportedTombstone, type ImportOutcome, type RateLimit,
  type SessionBackend, type SessionRecord, type StoredSession,
} from '../session-backend'
import { matchesLogout, type LogoutMatch, type SessionKeys } from '../session-index'
import { nowInSeconds } from '../session-expiry'

export interface EmbeddedSettings {
  /** Folder for the session files; they survive a dev-server restart (EMBEDDED_STORE_DIR). Default `.data/sessions`. */
  directory: string
}

// Files under the folder: session/<id> holds { sealed (base64), expiresAt (s), createdAt (ms, this process's clock), keys },
// or a tombstone { tombstoneUntil (s) } once the session ended; once/<key> a recordOnce() marker, shaped alike; index/sid/<hash> and index/sub/<hash> list
// { id, createdAt } oldest first. owner.lock (proper-lockfile's) and owner.json say which process holds the folder.
interface SessionFile {
  sealed: string
  expiresAt: number
  createdAt: number
  keys: SessionKeys
}

interface Tombstone {
  tombstoneUntil: number
}

interface IndexEntry {
  id: string
  createdAt: number
}

/** Who holds the folder: the start time tells this process from another with the same pid (pid 1 in every container). */
interface Owner {
  pid: number
  hostname: string
  startedAt: number
}

const THIS_PROCESS: Owner = { pid: process.pid, hostname: hostname(), startedAt: Math.round(Date.now() - process.uptime() * 1000) }

function isThisProcess(owner: Owner): boolean {
  return owner.pid === THIS_PROCESS.pid && owner.hostname === THIS_PROCESS.hostname && Math.abs(owner.startedAt - THIS_PROCESS.startedAt) < 1000
}

/** Rate limiters by folder and name, so that every store on one folder in this process counts together. */
const memoryLimiters = new Map<string, RateLimiterMemory>()

const LOCK_DIR = 'owner.lock'
const OWNER_FILE = 'owner.json'
/** A lock not refreshed for this long belongs to a process that died: the next one takes it over (proper-lockfile's default). */
const LOCK_STALE_MS = 10_000
/** How long a first use waits for another worker of this process to let go of the folder (nuxt dev restarting its server). */
const LOCK_WAIT_MS = 2000
const LOCK_RETRY_MS = 100

/** A session id as one file name (decodeURIComponent reads it back): ':' is unstorage's path separator, '.' could make '..'. */
export function sessionFileName(id: string): string {
  return encodeURIComponent(id).replace(/\./g, '%2E')
}

const sessionKey = (id: string) => `session:${sessionFileName(id)}`
const indexKey = (key: string) => `index:${key}`
const indexedKeys = (keys: SessionKeys) => (keys.sub ? [...keys.sids, keys.sub] : keys.sids)

function isTombstone(file: SessionFile | Tombstone): file is Tombstone {
  return 'tombstoneUntil' in file
}

function isLive(file: SessionFile | Tombstone | undefined): file is SessionFile {
  return file !== undefined && !isTombstone(file) && file.expiresAt > nowInSeconds()
}

function stored(id: string, file: SessionFile): StoredSession {
  return { id, sealed: Buffer.from(file.sealed, 'base64'), expiresAt: file.expiresAt, createdAt: file.createdAt }
}

/** What a session file holds: a session (maybe expired), a tombstone still refusing writes, or nothing. */
async function load(storage: Storage, id: string): Promise<SessionFile | Tombstone | undefined> {
  const file = await storage.getItem<SessionFile | Tombstone>(sessionKey(id))
  if (typeof file !== 'object' || file === null) return undefined
  return isTombstone(file) && file.tombstoneUntil <= nowInSeconds() ? undefined : file
}

async function readIndex(storage: Storage, key: string): Promise<IndexEntry[]> {
  return (await storage.getItem<IndexEntry[]>(indexKey(key))) ?? []
}

async function writeIndex(storage: Storage, key: string, entries: IndexEntry[]): Promise<void> {
  await (entries.length ? storage.setItem(indexKey(key), entries) : storage.removeItem(indexKey(key)))
}

/** The index with the entry in it, oldest first; written only when that changed it (a refresh does not). */
async function addToIndex(storage: Storage, key: string, entries: IndexEntry[], entry: IndexEntry): Promise<IndexEntry[]> {
  if (entries.some(other => other.id === entry.id && other.createdAt === entry.createdAt)) return entries
  const updated = [...entries.filter(other => other.id !== entry.id), entry].sort((a, b) => a.createdAt - b.createdAt)
  await writeIndex(storage, key, updated)
  return updated
}

async function removeFromIndex(storage: Storage, key: string, ids: string[]): Promise<void> {
  if (!ids.length) return
  const entries = await readIndex(storage, key)
  const kept = entries.filter(entry => !ids.includes(entry.id))
  if (kept.length !== entries.length) await writeIndex(storage, key, kept)
}

/** Ends a session. The tombstone first: from then on it is unreadable, whichever index update a crash cuts short. */
async function endSession(storage: Storage, id: string, current: SessionFile | Tombstone | undefined): Promise<void> {
  await storage.setItem<Tombstone>(sessionKey(id), { tombstoneUntil: nowInSeconds() + TOMBSTONE_SECONDS })
  if (current && !isTombstone(current)) await Promise.all(indexedKeys(current.keys).map(key => removeFromIndex(storage, key, [id])))
}

/** recordOnce() inside a queue turn: a marker file once/<key> holding when it lapses. */
async function recordOnceIn(storage: Storage, key: string, seconds: number): Promise<boolean> {
  const name = `once:${sessionFileName(key)}`
  const marker = await storage.getItem<Tombstone>(name)
  if (marker && marker.tombstoneUntil > nowInSeconds()) return false
  await storage.setItem<Tombstone>(name, { tombstoneUntil: nowInSeconds() + seconds })
  return true
}

function refusal(directory: string, owner: Owner | undefined): string {
  const holder = !owner
    ? 'another process'
    : isThisProcess(owner) ? `another worker of this process (pid ${owner.pid})` : `another process (pid ${owner.pid} on ${owner.hostname})`
  return `the folder ${directory} is in use by ${holder}, and the embedded store serves one process only. `
    + 'Stop that process, or use Redis or PostgreSQL (SESSION_STORE=redis or postgres) to share sessions between processes. '
    + `A lock left by a process that crashed is taken over once it is ${LOCK_STALE_MS / 1000} s old`
}

/**
 * One folder as this process holds it, shared by every backend opened on it here: their operations
 * run one after another in its queue, which is what makes each operation atomic. It takes the
 * folder's lock on first use and holds it until the last backend closes; a second process is refused.
 */
class SessionFolder {
  static readonly #open = new Map<string, SessionFolder>()

  readonly directory: string
  readonly #storage: Storage
  #queue: Promise<unknown> = Promise.resolve()
  #users = 0
  #release: (() => Promise<void>) | undefined
  #lockWaitMs = LOCK_WAIT_MS
  /** Why this process may no longer use the folder: its lock was taken over or deleted. */
  #lost: string | undefined

  private constructor(directory: string) {
    this.directory = directory
    this.#storage = createStorage({ driver: fsLiteDriver({ base: directory }) })
  }

  static attach(directory: string): SessionFolder {
    let folder = SessionFolder.#open.get(directory)
    if (!folder) {
      folder = new SessionFolder(directory)
      SessionFolder.#open.set(directory, folder)
    }
    folder.#users++
    return folder
  }

  /** The last backend to let go of the folder waits for its queue, then releases the lock. */
  async detach(): Promise<void> {
    if (--this.#users > 0) return
    SessionFolder.#open.delete(this.directory)
    await this.#queue
    await this.#storage.dispose()
    await this.#unlock()
  }

  exclusive<T>(operation: (storage: Storage) => Promise<T>): Promise<T> {
    const result = this.#queue.then(async () => {
      await this.#own()
      return operation(this.#storage)
    })
    this.#queue = result.catch(() => undefined)
    return result
  }

  /** Deletes the folder: everything in it, then the lock, then the folder itself. */
  drop(): Promise<void> {
    return this.exclusive(async () => {
      const names = await readdir(this.directory)
      await Promise.all(names.filter(name => name !== LOCK_DIR).map(name => rm(join(this.directory, name), { recursive: true, force: true })))
      await this.#unlock()
      // A process that took the folder in the meantime has put its lock in it: the folder is then theirs.
      await rmdir(this.directory).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOTEMPTY') throw error
      })
    })
  }

  async #own(): Promise<void> {
    if (this.#lost) throw new Error(this.#lost)
    if (this.#release) return
    await mkdir(this.directory, { recursive: true }).catch((error: Error) => {
      throw new Error(`cannot use the folder ${this.directory}: ${error.message}`, { cause: error })
    })
    this.#release = await this.#lock()
    await writeFile(join(this.directory, OWNER_FILE), JSON.stringify(THIS_PROCESS))
  }

  async #lock(): Promise<() => Promise<void>> {
    const giveUpAt = Date.now() + this.#lockWaitMs
    // Only the first use waits: later attempts are the store's probes, which must answer at once.
    this.#lockWaitMs = 0
    for (;;) {
      try {
        return await lock(this.directory, {
          lockfilePath: join(this.directory, LOCK_DIR),
          stale: LOCK_STALE_MS,
          onCompromised: error => this.#compromised(error),
        })
      }
      catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') {
          throw new Error(`cannot lock the folder ${this.directory}: ${(error as Error).message}`, { cause: error })
        }
        const owner = await this.#owner()
        // Another process does not let go by itself; a worker of this one (nuxt dev reloading) does, in moments.
        if ((owner && !isThisProcess(owner)) || Date.now() >= giveUpAt) throw new Error(refusal(this.directory, owner))
        await sleep(LOCK_RETRY_MS)
      }
    }
  }

  /** Undefined when the holder has not written it yet, or wrote it cut short. */
  async #owner(): Promise<Owner | undefined> {
    const text = await readFile(join(this.directory, OWNER_FILE), 'utf8').catch(() => undefined)
    try {
      const owner = JSON.parse(text ?? '') as Partial<Owner>
      return typeof owner.pid === 'number' && typeof owner.hostname === 'string' && typeof owner.startedAt === 'number' ? owner as Owner : undefined
    }
    catch {
      return undefined
    }
  }

  #compromised(error: Error): void {
    this.#release = undefined
    this.#lost = `this process lost its lock on the folder ${this.directory} (${error.message}), so another process may be `
      + 'writing sessions there. Every call now fails: make sure one process only uses the folder, then restart this one'
    console.error(`[session-store] EMBEDDED STORE STOPPED: ${this.#lost}.`)
  }

  async #unlock(): Promise<void> {
    const release = this.#release
    this.#release = undefined
    if (!release) return
    await rm(join(this.directory, OWNER_FILE), { force: true })
    await release()
  }
}

/**
 * Sessions as files through unstorage, for development and single-process deployments with no
 * database. One process owns the folder (a lock refuses a second one); within it, operations queue.
 */
export class EmbeddedBackend implements SessionBackend {
  readonly location: string
  readonly #limits: BackendLimits
  #folder: SessionFolder | undefined

  constructor(settings: EmbeddedSettings, limits: BackendLimits) {
    this.location = resolve(settings.directory)
    this.#limits = limits
  }

  /** The folder is attached on first use: the factory stays synchronous and touches no file. */
  #shared(): SessionFolder {
    return this.#folder ??= SessionFolder.attach(this.location)
  }

  #exclusive<T>(operation: (storage: Storage) => Promise<T>): Promise<T> {
    return this.#shared().exclusive(operation)
  }

  write(record: SessionRecord): Promise<boolean> {
    return this.#exclusive(async (storage) => {
      const keys = indexedKeys(record.keys)
      const [current, ...indexes] = await Promise.all([load(storage, record.id), ...keys.map(key => readIndex(storage, key))])
      if (current && isTombstone(current)) return false
      const live = isLive(current) ? current : undefined
      const entry = { id: record.id, createdAt: live?.createdAt ?? Date.now() }
      // Index entries first, the session file last: a crash in between leaves entries that point at nothing
      // (dropped when met), never a session that no index finds.
      const updated = await Promise.all(keys.map((key, i) => addToIndex(storage, key, indexes[i]!, entry)))
      await storage.setItem<SessionFile>(sessionKey(record.id),
        { sealed: record.sealed.toString('base64'), expiresAt: record.expiresAt, createdAt: entry.createdAt, keys: record.keys })
      if (current) {
        await Promise.all(indexedKeys(current.keys).filter(key => !keys.includes(key)).map(key => removeFromIndex(storage, key, [record.id])))
      }
      const sub = record.keys.sub
      // indexedKeys() puts the sub key last.
      if (sub && live?.keys.sub !== sub) await this.#endBeyondCap(storage, sub, updated.at(-1)!, record.id)
      return true
    })
  }

  /** Ends the oldest sessions of a user beyond the cap (dropping ids that expired on the way), walking at most the cap. */
  async #endBeyondCap(storage: Storage, subKey: string, entries: IndexEntry[], newId: string): Promise<void> {
    let excess = entries.length - this.#limits.maxSessionsPerUser
    for (const { id } of entries.slice(0, this.#limits.maxSessionsPerUser)) {
      if (excess <= 0) return
      if (id === newId) continue
      const file = await load(storage, id)
      await (isLive(file) ? endSession(storage, id, file) : removeFromIndex(storage, subKey, [id]))
      excess--
    }
  }

  read(id: string): Promise<StoredSession | undefined> {
    return this.#exclusive(async (storage) => {
      const file = await load(storage, id)
      return isLive(file) ? stored(id, file) : undefined
    })
  }

  remove(id: string): Promise<void> {
    return this.#exclusive(async storage => endSession(storage, id, await load(storage, id)))
  }

  /** Through the sid's index, or the user's: in turns of at most the cap, so that other calls get in between. */
  async revoke(match: LogoutMatch, createdUpTo: number | undefined): Promise<number> {
    const key = match.sid ?? match.sub
    if (!key) return 0
    const upTo = createdUpTo ?? Date.now()
    const limit = this.#limits.maxSessionsPerUser
    let ended = 0
    let offset = 0
    for (;;) {
      const turn = await this.#exclusive(async (storage) => {
        const entries = (await readIndex(storage, key)).filter(entry => entry.createdAt <= upTo).slice(offset, offset + limit)
        const stale: string[] = []
        let endedNow = 0
        let kept = 0
        for (const { id } of entries) {
          const file = await load(storage, id)
          if (!isLive(file)) {
            stale.push(id)
          }
          else if (matchesLogout(file.keys, match) && file.createdAt <= upTo) {
            await endSession(storage, id, file)
            endedNow++
          }
          else {
            kept++
          }
        }
        await removeFromIndex(storage, key, stale)
        return { ended: endedNow, kept, walked: entries.length }
      })
      ended += turn.ended
      offset += turn.kept
      if (turn.walked < limit) return ended
    }
  }

  listByUser(subKey: string): Promise<StoredSession[]> {
    return this.#exclusive(async (storage) => {
      const newest = (await readIndex(storage, subKey)).slice(-this.#limits.maxSessionsPerUser).reverse()
      const sessions: StoredSession[] = []
      const stale: string[] = []
      for (const { id } of newest) {
        const file = await load(storage, id)
        if (isLive(file)) sessions.push(stored(id, file))
        else stale.push(id)
      }
      await removeFromIndex(storage, subKey, stale)
      return sessions
    })
  }

  /** A marker file once/<key> holding when it lapses. */
  recordOnce(key: string, seconds: number): Promise<boolean> {
    return this.#exclusive(storage => recordOnceIn(storage, key, seconds))
  }

  /** In this process's memory, one per folder and name: the folder has one process, so no other app server counts. */
  rateLimiter(limit: RateLimit): RateLimiterMemory {
    const name = `${this.location}\0${limit.keyPrefix}`
    let limiter = memoryLimiters.get(name)
    if (!limiter) memoryLimiters.set(name, limiter = new RateLimiterMemory(limit))
    return limiter
  }

  /** Files do not expire by themselves: the scheduled task `session-store:prune` scans them, one file per turn. */
  async prune(): Promise<number> {
    const keys = await this.#exclusive(storage => storage.getKeys('session'))
    let pruned = 0
    for (const key of keys) {
      pruned += await this.#exclusive(async (storage) => {
        const file = await storage.getItem<SessionFile | Tombstone>(key)
        if (typeof file !== 'object' || file === null) return 0
        if (isTombstone(file)) {
          if (file.tombstoneUntil <= nowInSeconds()) await storage.removeItem(key)
          return 0
        }
        if (file.expiresAt > nowInSeconds()) return 0
        await storage.removeItem(key)
        const id = decodeURIComponent(key.slice('session:'.length))
        for (const indexed of indexedKeys(file.keys)) await removeFromIndex(storage, indexed, [id])
        return 1
      })
    }
    for (const key of await this.#exclusive(storage => storage.getKeys('once'))) {
      await this.#exclusive(async (storage) => {
        const marker = await storage.getItem<Tombstone>(key)
        if (!marker || marker.tombstoneUntil <= nowInSeconds()) await storage.removeItem(key)
      })
    }
    return pruned
  }

  /** The session files, then the once/ markers, one queue turn per batch so that the app's calls get in between. */
  async* exportAll(batchSize: number): AsyncIterable<ExportedEntry[]> {
    for (const kind of ['session', 'once'] as const) {
      const keys = await this.#exclusive(storage => storage.getKeys(kind))
      for (let start = 0; start < keys.length; start += batchSize) {
        const entries = await this.#exclusive(async (storage) => {
          const batch: ExportedEntry[] = []
          for (const key of keys.slice(start, start + batchSize)) {
            const file = await storage.getItem<SessionFile | Tombstone>(key)
            if (typeof file !== 'object' || file === null) continue
            const name = decodeURIComponent(key.slice(`${kind}:`.length))
            if (!isTombstone(file)) {
              if (isLive(file)) batch.push({ kind: 'session', id: name, sealed: Buffer.from(file.sealed, 'base64'), expiresAt: file.expiresAt, createdAt: file.createdAt, keys: file.keys })
              continue
            }
            const remainingMs = file.tombstoneUntil * 1000 - Date.now()
            if (remainingMs > 0) batch.push(kind === 'once' ? { kind, key: name, remainingMs } : { kind: 'tombstone', id: name, remainingMs })
          }
          return batch
        })
        if (entries.length) yield entries
      }
    }
  }

  /** One queue turn per batch: nothing else writes in between. */
  importEntries(entries: ExportedEntry[]): Promise<ImportOutcome[]> {
    return this.#exclusive(async (storage) => {
      const outcomes: ImportOutcome[] = []
      for (const entry of entries) {
        if (entry.kind === 'session') outcomes.push(await this.#importSession(storage, entry))
        else if (entry.kind === 'tombstone') outcomes.push(await this.#importTombstone(storage, entry))
        else outcomes.push(await recordOnceIn(storage, entry.key, Math.ceil(entry.remainingMs / 1000)) ? 'copied' : 'present')
      }
      return outcomes
    })
  }

  async #importSession(storage: Storage, session: ExportedSession): Promise<ImportOutcome> {
    const current = await load(storage, session.id)
    if (current && isTombstone(current)) return 'tombstoned'
    if (isLive(current)) return 'present'
    const keys = indexedKeys(session.keys)
    const indexes = await Promise.all(keys.map(key => readIndex(storage, key)))
    const sub = session.keys.sub
    if (sub && await this.#liveNewerThan(storage, indexes.at(-1)!, session.createdAt) >= this.#limits.maxSessionsPerUser) return 'over-cap'
    // As in write(): index entries first, the session file last.
    const entry = { id: session.id, createdAt: session.createdAt }
    const updated = await Promise.all(keys.map((key, i) => addToIndex(storage, key, indexes[i]!, entry)))
    await storage.setItem<SessionFile>(sessionKey(session.id),
      { sealed: session.sealed.toString('base64'), expiresAt: session.expiresAt, createdAt: session.createdAt, keys: session.keys })
    if (sub) await this.#endBeyondCap(storage, sub, updated.at(-1)!, session.id)
    return 'copied'
  }

  /** How many live sessions of an index (oldest first) are newer than `createdAt`, counting up to the cap. */
  async #liveNewerThan(storage: Storage, entries: IndexEntry[], createdAt: number): Promise<number> {
    let live = 0
    for (const { id } of entries.filter(entry => entry.createdAt > createdAt).reverse()) {
      if (live >= this.#limits.maxSessionsPerUser) break
      if (isLive(await load(storage, id))) live++
    }
    return live
  }

  async #importTombstone(storage: Storage, tombstone: ExportedTombstone): Promise<ImportOutcome> {
    const current = await load(storage, tombstone.id)
    if (current && isTombstone(current)) return 'present'
    if (isLive(current)) {
      await endSession(storage, tombstone.id, current)
      return 'ended'
    }
    await storage.setItem<Tombstone>(sessionKey(tombstone.id), { tombstoneUntil: nowInSeconds() + Math.ceil(tombstone.remainingMs / 1000) })
    return 'copied'
  }

  /** Holding the folder's lock, and able to write in it. */
  ping(): Promise<void> {
    return this.#exclusive(() => access(this.location, constants.W_OK))
  }

  drop(): Promise<void> {
    return this.#shared().drop()
  }

  async close(): Promise<void> {
    const folder = this.#folder
    this.#folder = undefined
    await folder?.detach()
  }
}

const DEFAULT_DIRECTORY = '.data/sessions'

export default defineBackend({
  name: 'embedded',
  settings: (env): EmbeddedSettings => ({ directory: env.string('EMBEDDED_STORE_DIR', DEFAULT_DIRECTORY) }),
  defaultLocation: DEFAULT_DIRECTORY,
  startHint: 'Check that EMBEDDED_STORE_DIR is a folder this process can write to, and that no other process uses it.',
  create: (settings, limits) => new EmbeddedBackend(settings, limits),
})
