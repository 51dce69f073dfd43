import { Binary, MongoClient, type Collection, type Filter } from 'mongodb'
import { defineBackend, type SessionBackend, SessionRecord, StoredSession } from '../session-backend'
import type { LogoutMatch, SessionKeys } from '../session-index'
const deletedIdKey = (id: string) => `id:${id}`
const keysOf = (keys: SessionKeys) => (keys.sub ? [...keys.sids, keys.sub] : keys.sids)
import { redactUrl } from '../session-store-config'

export interface MongoSettings {
  /** `mongodb://user:password@host:27017/?authSource=admin` (MONGODB_URI). */
  uri: string
  /** Default `auth0_sessions`. */
  database: string
  /** Default `sessions`; revocations go to `<collection>_revocations`. */
  collection: string
}

interface SessionDocument {
  _id: string
  payload: Binary
  /** A TTL index deletes the document once this date has passed. */
  expiresAt: Date
  createdAt: number
  sidKeys: string[]
  subKey?: string
  issKey?: string
}

interface RevocationDocument {
  _id: string
  revokedAt: number
  expiresAt: Date
}

function toStoredSession(document: Pick<SessionDocument, '_id' | 'payload' | 'expiresAt'>): StoredSession {
  return { id: document._id, sealed: Buffer.from(document.payload.buffer), expiresAt: Math.floor(document.expiresAt.getTime() / 1000) }
}

const fromSeconds = (seconds: number) => new Date(seconds * 1000)

export class MongoBackend implements SessionBackend {
  readonly location: string
  readonly startHint = 'Start it with `docker compose up -d mongodb`, or check MONGODB_URI.'
  readonly #options: MongoSettings
  #client: MongoClient | undefined
  #indexes: Promise<void> | undefined

  constructor(options: MongoSettings) {
    this.#options = options
    this.location = `${redactUrl(options.uri)} (${options.database}.${options.collection})`
  }

  /** Connects on first use and creates the indexes once; a failed attempt is retried on the next call. */
  async #collections(): Promise<{ sessions: Collection<SessionDocument>, revocations: Collection<RevocationDocument> }> {
    this.#client ??= new MongoClient(this.#options.uri, { serverSelectionTimeoutMS: 2000, connectTimeoutMS: 2000 })
    const db = this.#client.db(this.#options.database)
    const sessions = db.collection<SessionDocument>(this.#options.collection)
    const revocations = db.collection<RevocationDocument>(`${this.#options.collection}_revocations`)
    this.#indexes ??= Promise.all([
      sessions.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 }),
      sessions.createIndex({ sidKeys: 1 }),
      sessions.createIndex({ subKey: 1 }),
      revocations.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 }),
    ]).then(() => undefined, (error: unknown) => {
      this.#indexes = undefined
      throw error
    })
    await this.#indexes
    return { sessions, revocations }
  }

  /**
   * One document per session is atomic by itself. Against a revocation running at the same time,
   * the write checks for it after writing: the revocation records itself before deleting, so either
   * its delete sees this write or this check sees the revocation.
   */
  async write(record: SessionRecord): Promise<boolean> {
    const { sessions, revocations } = await this.#collections()
    await sessions.replaceOne({ _id: record.id }, {
      payload: new Binary(record.sealed),
      expiresAt: fromSeconds(record.expiresAt),
      createdAt: record.createdAt,
      sidKeys: record.keys.sids,
      ...(record.keys.sub && { subKey: record.keys.sub }),
      ...(record.keys.iss && { issKey: record.keys.iss }),
    }, { upsert: true })
    // From the primary: a secondary could lag behind the revocation this check must see.
    const revoked = await revocations.findOne({ _id: { $in: [...keysOf(record.keys), deletedIdKey(record.id)] }, revokedAt: { $gte: record.createdAt } },
      { projection: { _id: 1 }, readPreference: 'primary' })
    if (!revoked) return true
    await sessions.deleteOne({ _id: record.id })
    return false
  }

  async read(id: string): Promise<StoredSession | undefined> {
    const { sessions } = await this.#collections()
    const document = await sessions.findOne({ _id: id }, { projection: { payload: 1, expiresAt: 1 } })
    return document ? toStoredSession(document) : undefined
  }

  /** Revocation first, then the delete: the same order as revoke(), for the same reason. */
  async remove(id: string, removedAt: number, revocationSeconds: number): Promise<void> {
    const { sessions, revocations } = await this.#collections()
    await revocations.updateOne({ _id: deletedIdKey(id) },
      { $max: { revokedAt: removedAt, expiresAt: fromSeconds(removedAt + revocationSeconds) } }, { upsert: true })
    await sessions.deleteOne({ _id: id })
  }

  async revoke(match: LogoutMatch, revokedKey: string, revokedAt: number, revocationSeconds: number): Promise<number> {
    const { sessions, revocations } = await this.#collections()
    await revocations.updateOne({ _id: revokedKey },
      { $max: { revokedAt, expiresAt: fromSeconds(revokedAt + revocationSeconds) } }, { upsert: true })
    // An empty filter would delete every session: a match always names a sid or a sub.
    if (!match.sid && !match.sub) throw new Error('A logout match needs a sid or a sub.')
    const filter: Filter<SessionDocument> = {
      ...(match.sid && { sidKeys: match.sid }),
      ...(match.sub && { subKey: match.sub }),
      ...(match.iss && { issKey: match.iss }),
      createdAt: { $lte: revokedAt },
    }
    const { deletedCount } = await sessions.deleteMany(filter)
    return deletedCount
  }

  async listByUser(subKey: string): Promise<StoredSession[]> {
    const { sessions } = await this.#collections()
    const documents = await sessions.find({ subKey, expiresAt: { $gt: new Date() } }, { projection: { payload: 1, expiresAt: 1 } }).toArray()
    return documents.map(toStoredSession)
  }

  /** MongoDB's TTL monitor deletes expired documents itself (about once a minute). */
  async prune(): Promise<number> {
    return 0
  }

  async ping(): Promise<void> {
    await this.#collections()
    await this.#client!.db(this.#options.database).command({ ping: 1 })
  }

  async close(): Promise<void> {
    await this.#client?.close()
    this.#client = undefined
    this.#indexes = undefined
  }
}

// TEMPORARY STUB: being rewritten to the new SessionBackend interface.
export default defineBackend({
  name: 'mongodb',
  settings: (env): MongoSettings => ({ uri: env.string('MONGODB_URI', 'mongodb://root:mongodb@localhost:27017/?authSource=admin'), database: env.string('MONGODB_DATABASE', 'auth0_sessions'), collection: env.string('MONGODB_COLLECTION', 'sessions') }),
  defaultLocation: '',
  startHint: 'Start it with `docker compose up -d mongodb`, or check MONGODB_URI.',
  create: settings => new MongoBackend(settings) as never,
})
