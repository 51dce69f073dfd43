import { Binary, MongoClient, MongoServerError, type Collection, type Document, type Filter } from 'mongodb'
import { RateLimiterMongo } from 'rate-limiter-flexible'
import {
  defineBackend, TOMBSTONE_SECONDS, type BackendLimits, type ExportedEntry, type ExportedSession, type ExportedTombstone, type ImportOutcome, type RateLimit,
  type SessionBackend, type SessionRecord, type StoredSession,
} from '../session-backend'
import type { LogoutMatch } from '../session-index'
import { redactUrl } from '../session-store-config'
import { SessionInputError } from '../session-store-errors'

export interface MongoSettings {
  /** `mongodb://user:password@host:27017/?authSource=admin`, or `mongodb+srv://...` (MONGODB_URI). */
  uri: string
  /** The database holding the collection (MONGODB_DATABASE). Default `auth0_sessions`. */
  database: string
  /** One document per session id (MONGODB_COLLECTION). Default `sessions`. */
  collection: string
}

/**
 * A live session has every field. A tombstone keeps only `_id` and `expiresAt`: no index finds it,
 * and a write of its id is refused until the TTL monitor deletes it.
 */
interface SessionDocument {
  _id: string
  payload?: Binary
  /** The TTL index deletes the document once this date has passed (its monitor runs about once a minute). */
  expiresAt: Date
  /** When this id was first stored, on the server's clock ($$NOW). */
  createdAt?: Date
  sidKeys?: string[]
  subKey?: string
  issKey?: string
}

interface IndexSpec {
  name: string
  key: Record<string, 1 | -1>
  options?: { expireAfterSeconds: number }
}

// Names of our own: an index of the same keys made by hand or by an older version is then a conflict we can name.
const INDEXES: IndexSpec[] = [
  { name: 'auth0_expiresAt_ttl', key: { expiresAt: 1 }, options: { expireAfterSeconds: 0 } },
  { name: 'auth0_sidKeys', key: { sidKeys: 1 } },
  { name: 'auth0_subKey_createdAt', key: { subKey: 1, createdAt: -1 } },
]

// IndexOptionsConflict (same keys under another name, or other options) and IndexKeySpecsConflict (same name, other keys).
const INDEX_CONFLICT_CODES = new Set([85, 86])
const DUPLICATE_KEY = 11000

// Ends a session in place: only the id and an expiry on the server's clock stay, so app servers' clocks do not matter.
const TOMBSTONE: Document[] = [{ $replaceWith: { _id: '$_id', expiresAt: { $add: ['$$NOW', TOMBSTONE_SECONDS * 1000] } } }]

/** Our values inside a pipeline are data, never expressions: a string starting with `$` would read a field. */
function literal(value: unknown): Document {
  return { $literal: value }
}

function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY
}

function sameKey(a: Document, b: Document): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

/** The session a live document holds; undefined for a tombstone. */
function toStoredSession({ _id, payload, expiresAt, createdAt }: SessionDocument): StoredSession | undefined {
  if (!payload || !createdAt) return undefined
  return { id: _id, sealed: Buffer.from(payload.value()), expiresAt: Math.floor(expiresAt.getTime() / 1000), createdAt: createdAt.getTime() }
}

const LIVE_FIELDS = { payload: 1, expiresAt: 1, createdAt: 1 }

/** Not yet deleted by the TTL monitor, on the server's clock. */
const UNEXPIRED: Filter<SessionDocument> = { $expr: { $gt: ['$expiresAt', '$$NOW'] } }
const EXPIRED: Filter<SessionDocument> = { $expr: { $lte: ['$expiresAt', '$$NOW'] } }

/** A document as an export entry: a session, a recordOnce() marker (`once:<key>`, no payload), or a tombstone. */
function toExportedEntry(document: SessionDocument & { remainingMs: number }): ExportedEntry {
  const session = toStoredSession(document)
  if (session) return { kind: 'session', ...session, keys: { sids: document.sidKeys ?? [], sub: document.subKey, iss: document.issKey } }
  const remainingMs = Number(document.remainingMs)
  return document._id.startsWith('once:')
    ? { kind: 'once', key: document._id.slice('once:'.length), remainingMs }
    : { kind: 'tombstone', id: document._id, remainingMs }
}

interface Connection {
  client: MongoClient
  sessions: Collection<SessionDocument>
}

export class MongoBackend implements SessionBackend {
  readonly location: string
  readonly #settings: MongoSettings
  readonly #limits: BackendLimits
  #connection: Promise<Connection> | undefined
  #indexes: Promise<void> | undefined
  #rateLimiterClient: MongoClient | undefined

  constructor(settings: MongoSettings, limits: BackendLimits) {
    this.#settings = settings
    this.#limits = limits
    this.location = `${redactUrl(settings.uri)} (${settings.database}.${settings.collection})`
  }

  /** Connects on first use; after a failed attempt the next call starts afresh. Once connected, the driver reconnects by itself. */
  #connect(): Promise<Connection> {
    this.#connection ??= this.#open().catch((error: unknown) => {
      this.#connection = undefined
      throw error
    })
    return this.#connection
  }

  async #open(): Promise<Connection> {
    const timeoutMs = this.#limits.timeoutMs
    // Driver 7.9 ignores CSOT's timeoutMS ("has no effect"), so each stage gets the deadline of its own.
    const client = new MongoClient(this.#settings.uri, { serverSelectionTimeoutMS: timeoutMs, connectTimeoutMS: timeoutMs, socketTimeoutMS: timeoutMs })
    try {
      await client.connect()
    }
    catch (error) {
      // A client whose first connect failed keeps its closed topology: every later call would say "Topology is closed".
      await client.close().catch(() => undefined)
      throw error
    }
    return { client, sessions: client.db(this.#settings.database).collection<SessionDocument>(this.#settings.collection) }
  }

  /** The connection, with the indexes created once; an index error other than a conflict is retried on the next call. */
  async #ready(): Promise<Connection> {
    const connection = await this.#connect()
    this.#indexes ??= this.#createIndexes(connection.sessions).catch((error: unknown) => {
      this.#indexes = undefined
      throw error
    })
    await this.#indexes
    return connection
  }

  /** One at a time: the first one creates the collection, and no two race to do it. */
  async #createIndexes(sessions: Collection<SessionDocument>): Promise<void> {
    for (const index of INDEXES) {
      try {
        await sessions.createIndex(index.key, { name: index.name, ...index.options })
      }
      catch (error) {
        if (!(error instanceof MongoServerError && typeof error.code === 'number' && INDEX_CONFLICT_CODES.has(error.code))) throw error
        // Sessions keep working with the index that is there; retrying would only fail the same way on every call.
        console.error(await this.#conflictRemedy(sessions, index, error))
      }
    }
  }

  async #conflictRemedy(sessions: Collection<SessionDocument>, index: IndexSpec, error: MongoServerError): Promise<string> {
    const existing = await sessions.indexes().then(
      found => found.find(each => each.name === index.name || sameKey(each.key, index.key))?.name,
      () => undefined)
    const name = existing ?? index.name
    const { database, collection } = this.#settings
    return `[session-store] mongodb at ${this.location}: cannot create index "${index.name}" `
      + `${JSON.stringify(index.key)}${index.options ? ` ${JSON.stringify(index.options)}` : ''}: ${error.message}. `
      + `Sessions still work with the existing index "${name}", but it may not expire or find them as this store expects. `
      + `Drop it and restart the app, which creates ours: `
      + `mongosh "<MONGODB_URI>" --eval 'db.getSiblingDB("${database}").getCollection("${collection}").dropIndex("${name}")'`
  }

  /**
   * One atomic upsert whose filter matches only a live session: on a tombstone the upsert's insert
   * meets the same `_id` and fails with a duplicate key, which means "refused".
   */
  async write(record: SessionRecord): Promise<boolean> {
    const { sessions } = await this.#ready()
    // Two first writes of one id race to insert it; the loser's second try updates the winner's document.
    const written = await this.#upsert(sessions, record) ?? await this.#upsert(sessions, record)
    if (!written) return false
    if (written.upserted && record.keys.sub) await this.#endSessionsBeyondCap(sessions, record.keys.sub, record.id)
    return true
  }

  /** Undefined when the id is taken by a document the filter does not match: a tombstone, or a live session inserted meanwhile. */
  async #upsert(sessions: Collection<SessionDocument>, record: SessionRecord): Promise<{ upserted: boolean } | undefined> {
    const { sids, sub, iss } = record.keys
    try {
      const result = await sessions.updateOne({ _id: record.id, payload: { $exists: true } }, [{
        $set: {
          payload: literal(new Binary(record.sealed)),
          expiresAt: literal(new Date(record.expiresAt * 1000)),
          createdAt: { $ifNull: ['$createdAt', '$$NOW'] },
          sidKeys: literal(sids),
          subKey: sub === undefined ? '$$REMOVE' : literal(sub),
          issKey: iss === undefined ? '$$REMOVE' : literal(iss),
        },
      }], { upsert: true })
      return { upserted: result.upsertedCount === 1 }
    }
    catch (error) {
      if (isDuplicateKey(error)) return undefined
      throw error
    }
  }

  /** Ends the user's oldest live sessions beyond the cap, never the one just written; walks at most twice the cap. */
  async #endSessionsBeyondCap(sessions: Collection<SessionDocument>, subKey: string, newId: string): Promise<void> {
    const cap = this.#limits.maxSessionsPerUser
    const older = await sessions.find({ subKey, _id: { $ne: newId } },
      { sort: { createdAt: -1 }, skip: cap - 1, limit: cap, projection: { _id: 1 } }).toArray()
    if (older.length > 0) await sessions.updateMany({ _id: { $in: older.map(({ _id }) => _id) }, subKey }, TOMBSTONE)
  }

  async read(id: string): Promise<StoredSession | undefined> {
    const { sessions } = await this.#ready()
    const document = await sessions.findOne({ _id: id, payload: { $exists: true } }, { projection: LIVE_FIELDS })
    return document ? toStoredSession(document) : undefined
  }

  /** Upserts the tombstone: an unknown id is refused too, since a write of it may still be in flight. */
  async remove(id: string): Promise<void> {
    const { sessions } = await this.#ready()
    await sessions.updateOne({ _id: id }, TOMBSTONE, { upsert: true })
  }

  /** Through the sidKeys or subKey index, in batches of the per-user cap; each batch's ids become tombstones in one update. */
  async revoke(match: LogoutMatch, createdUpTo: number | undefined): Promise<number> {
    // An empty filter would end every session: refused before any backend work.
    if (!match.sid && !match.sub) {
      throw new SessionInputError(`A logout match must name a sid or a sub, or it would end every session; got ${JSON.stringify(match)}. Build it with logoutMatch().`)
    }
    const { sessions } = await this.#ready()
    const filter: Filter<SessionDocument> = {
      ...(match.sid && { sidKeys: match.sid }),
      ...(match.sub && { subKey: match.sub }),
      ...(match.iss && { issKey: match.iss }),
      ...(createdUpTo !== undefined && { createdAt: { $lte: new Date(createdUpTo) } }),
    }
    const limit = this.#limits.maxSessionsPerUser
    let ended = 0
    for (;;) {
      const batch = await sessions.find(filter, { limit, projection: { _id: 1 } }).toArray()
      if (batch.length === 0) return ended
      const { modifiedCount } = await sessions.updateMany({ ...filter, _id: { $in: batch.map(({ _id }) => _id) } }, TOMBSTONE)
      ended += modifiedCount
      if (batch.length < limit) return ended
    }
  }

  async listByUser(subKey: string): Promise<StoredSession[]> {
    const { sessions } = await this.#ready()
    const documents = await sessions.find({ subKey },
      { sort: { createdAt: -1 }, limit: this.#limits.maxSessionsPerUser, projection: LIVE_FIELDS }).toArray()
    return documents.flatMap(document => toStoredSession(document) ?? [])
  }

  /**
   * A marker document `once:<key>` with only an expiry, like a tombstone. The filter matches an
   * expired marker (not yet purged by the TTL monitor) so that it can be renewed; a live one makes
   * the upsert's insert meet its `_id`: a duplicate key, so "already recorded".
   */
  async recordOnce(key: string, seconds: number): Promise<boolean> {
    const { sessions } = await this.#ready()
    try {
      await sessions.updateOne({ _id: `once:${key}`, $expr: { $lte: ['$expiresAt', '$$NOW'] } },
        [{ $set: { expiresAt: { $add: ['$$NOW', seconds * 1000] } } }], { upsert: true })
      return true
    }
    catch (error) {
      if (isDuplicateKey(error)) return false
      throw error
    }
  }

  /** On a client of its own (the driver connects on first use), in `<collection>_rate_limits`, whose TTL index it creates. */
  rateLimiter(limit: RateLimit): RateLimiterMongo {
    const { timeoutMs } = this.#limits
    this.#rateLimiterClient ??= new MongoClient(this.#settings.uri, { serverSelectionTimeoutMS: timeoutMs, connectTimeoutMS: timeoutMs, socketTimeoutMS: timeoutMs })
    return new RateLimiterMongo({ ...limit, storeClient: this.#rateLimiterClient, dbName: this.#settings.database, tableName: `${this.#settings.collection}_rate_limits` })
  }

  /** MongoDB's TTL monitor deletes expired sessions and tombstones itself. */
  async prune(): Promise<number> {
    return 0
  }

  async ping(): Promise<void> {
    const { client } = await this.#ready()
    await client.db(this.#settings.database).command({ ping: 1 })
  }

  /** A cursor over the unexpired documents, fetched `batchSize` at a time; the remaining time on the server's clock. */
  async* exportAll(batchSize: number): AsyncIterable<ExportedEntry[]> {
    const { sessions } = await this.#ready()
    const cursor = sessions.aggregate<SessionDocument & { remainingMs: number }>(
      [{ $match: UNEXPIRED }, { $addFields: { remainingMs: { $subtract: ['$expiresAt', '$$NOW'] } } }], { batchSize })
    try {
      let batch: ExportedEntry[] = []
      for await (const document of cursor) {
        batch.push(toExportedEntry(document))
        if (batch.length >= batchSize) {
          yield batch
          batch = []
        }
      }
      if (batch.length) yield batch
    }
    finally {
      await cursor.close()
    }
  }

  /** One entry after another, so that a user's sessions are counted against the cap in turn. */
  async importEntries(entries: ExportedEntry[]): Promise<ImportOutcome[]> {
    const { sessions } = await this.#ready()
    const outcomes: ImportOutcome[] = []
    for (const entry of entries) {
      if (entry.kind === 'session') outcomes.push(await this.#importSession(sessions, entry))
      else if (entry.kind === 'tombstone') outcomes.push(await this.#importTombstone(sessions, entry))
      else outcomes.push(await this.recordOnce(entry.key, Math.ceil(entry.remainingMs / 1000)) ? 'copied' : 'present')
    }
    return outcomes
  }

  /**
   * Inserted only where the id is free (an expired document, not yet purged, counts as free): the
   * upsert's filter matches only such a document, so a live one makes its insert a duplicate key.
   */
  async #importSession(sessions: Collection<SessionDocument>, session: ExportedSession): Promise<ImportOutcome> {
    const current = await sessions.findOne({ _id: session.id, ...UNEXPIRED }, { projection: { payload: 1 } })
    if (current) return current.payload ? 'present' : 'tombstoned'
    const { sids, sub, iss } = session.keys
    const cap = this.#limits.maxSessionsPerUser
    if (sub) {
      const newer = await sessions.countDocuments({ subKey: sub, createdAt: { $gt: new Date(session.createdAt) }, ...UNEXPIRED }, { limit: cap })
      if (newer >= cap) return 'over-cap'
    }
    try {
      await sessions.updateOne({ _id: session.id, ...EXPIRED }, [{
        $replaceWith: literal({
          _id: session.id,
          payload: new Binary(session.sealed),
          expiresAt: new Date(session.expiresAt * 1000),
          createdAt: new Date(session.createdAt),
          sidKeys: sids,
          ...(sub !== undefined && { subKey: sub }),
          ...(iss !== undefined && { issKey: iss }),
        }),
      }], { upsert: true })
    }
    catch (error) {
      if (isDuplicateKey(error)) return 'present'
      throw error
    }
    if (sub) await this.#endSessionsBeyondCap(sessions, sub, session.id)
    return 'copied'
  }

  /** A live session of the id ends (a whole tombstone time, as remove() gives); a free id gets the tombstone for its remaining time. */
  async #importTombstone(sessions: Collection<SessionDocument>, tombstone: ExportedTombstone): Promise<ImportOutcome> {
    const { modifiedCount } = await sessions.updateOne({ _id: tombstone.id, payload: { $exists: true }, ...UNEXPIRED }, TOMBSTONE)
    if (modifiedCount === 1) return 'ended'
    try {
      await sessions.updateOne({ _id: tombstone.id, ...EXPIRED },
        [{ $replaceWith: { _id: '$_id', expiresAt: { $add: ['$$NOW', Math.ceil(tombstone.remainingMs)] } } }], { upsert: true })
      return 'copied'
    }
    catch (error) {
      if (isDuplicateKey(error)) return 'present'
      throw error
    }
  }

  /** Drops the collection (a missing one is fine); its indexes are created again on the next use. */
  async drop(): Promise<void> {
    const { client, sessions } = await this.#connect()
    await sessions.drop()
    await client.db(this.#settings.database).collection(`${this.#settings.collection}_rate_limits`).drop().catch(() => undefined)
    this.#indexes = undefined
  }

  async close(): Promise<void> {
    const connection = this.#connection
    this.#connection = undefined
    this.#indexes = undefined
    const open = await connection?.catch(() => undefined)
    await open?.client.close()
    await this.#rateLimiterClient?.close()
    this.#rateLimiterClient = undefined
  }
}

const DEFAULT_URI = 'mongodb://root:mongodb@localhost:27017/?authSource=admin'

export default defineBackend({
  name: 'mongodb',
  settings: (env): MongoSettings => ({
    uri: env.string('MONGODB_URI', DEFAULT_URI),
    database: env.string('MONGODB_DATABASE', 'auth0_sessions'),
    collection: env.string('MONGODB_COLLECTION', 'sessions'),
  }),
  defaultLocation: DEFAULT_URI,
  startHint: 'Start it with `docker compose up -d mongodb`, or check MONGODB_URI.',
  create: (settings, limits) => new MongoBackend(settings, limits),
})
