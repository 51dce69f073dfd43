import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { MongoClient } from 'mongodb'
import pg from 'pg'
import { readSessionStoreConfig, type BackendName } from '~/server/session-stores/backends'
import { sessionFileName, type EmbeddedSettings } from '~/server/session-stores/backends/embedded'
import type { MongoSettings } from '~/server/session-stores/backends/mongodb'
import type { PostgresSettings } from '~/server/session-stores/backends/postgres'
import { masters, openRedis, readRedisSettings, type RedisClient, type RedisSettings } from '~/server/session-stores/backends/redis-connection'
import { EnvReader } from '~/server/session-stores/session-store-config'

/** Reads a backend directly, as an attacker with a database dump (or an operator) would. */
export interface RawBackend {
  /** Everything the store keeps, as text. */
  dump(): Promise<string>
  /** When the backend itself will drop this live session (Unix seconds); undefined for none, or a tombstone. */
  nativeExpiry(id: string): Promise<number | undefined>
  close(): Promise<void>
}

async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true }).catch(() => [])
  return entries.filter(entry => entry.isFile()).map(entry => join(entry.parentPath, entry.name))
}

function rawEmbedded(config: EmbeddedSettings): RawBackend {
  return {
    // File names are on disk too: they are part of what a copy of the folder gives away.
    async dump() {
      const files = await filesUnder(config.directory)
      return [...files, ...await Promise.all(files.map(file => readFile(file, 'utf8')))].join('\n')
    },
    // The time prune() deletes the file at; a tombstone has none.
    async nativeExpiry(id) {
      const text = await readFile(join(config.directory, 'session', sessionFileName(id)), 'utf8').catch(() => undefined)
      return text === undefined ? undefined : (JSON.parse(text) as { expiresAt?: number }).expiresAt
    },
    async close() {},
  }
}

/**
 * Every key matching `match` (a SCAN pattern) on every master: a Cluster spreads keys over all of them.
 * A Cluster knows its masters once it has read the slot map, which its first command waits for.
 */
async function redisKeys(redis: RedisClient, match: string): Promise<string[]> {
  await redis.ping()
  const perMaster = await Promise.all(masters(redis).map(async (node) => {
    const keys: string[] = []
    for await (const batch of node.scanStream({ match, count: 1000 }) as AsyncIterable<string[]>) keys.push(...batch)
    return keys
  }))
  return perMaster.flat()
}

/** The keys matching `match` in the Redis (standalone, Sentinel or Cluster) that these settings name. */
export async function redisKeysUnder(env: Record<string, string | undefined>, match: string): Promise<string[]> {
  const redis = openRedis(readRedisSettings(new EnvReader(env)))
  try {
    return await redisKeys(redis, match)
  }
  finally {
    await redis.quit()
  }
}

function rawRedis(config: RedisSettings): RawBackend {
  const redis = openRedis(config)
  return {
    async dump() {
      const keys = await redisKeys(redis, `${config.keyPrefix}*`)
      const values = await Promise.all(keys.map(async (key) => {
        const type = await redis.type(key)
        if (type === 'hash') return JSON.stringify(await redis.hgetall(key))
        if (type === 'set') return JSON.stringify(await redis.smembers(key))
        if (type === 'zset') return JSON.stringify(await redis.zrange(key, 0, -1, 'WITHSCORES'))
        return String(await redis.get(key))
      }))
      return [...keys, ...values].join('\n')
    },
    async nativeExpiry(id) {
      const key = `${config.keyPrefix}session:${id}`
      if (!await redis.hexists(key, 'p')) return undefined
      // In milliseconds, rounded up: TTL's whole seconds would round the time Redis drops it either way.
      const ttl = await redis.pttl(key)
      return ttl > 0 ? Math.ceil((Date.now() + ttl) / 1000) : undefined
    },
    async close() {
      await redis.quit()
    },
  }
}

function rawPostgres(config: PostgresSettings): RawBackend {
  const pool = new pg.Pool({ connectionString: config.connectionString })
  return {
    async dump() {
      const { rows } = await pool.query(`SELECT t::text AS row, encode(payload, 'escape') AS payload FROM ${config.table} t`)
      return rows.map(row => `${row.row} ${row.payload ?? ''}`).join('\n')
    },
    async nativeExpiry(id) {
      const { rows } = await pool.query(
        `SELECT extract(epoch FROM expires_at)::bigint AS e FROM ${config.table} WHERE id = $1 AND payload IS NOT NULL`, [id])
      return rows[0] ? Number(rows[0].e) : undefined
    },
    async close() {
      await pool.end()
    },
  }
}

function rawMongo(config: MongoSettings): RawBackend {
  const client = new MongoClient(config.uri)
  const sessions = client.db(config.database).collection<{ _id: string, expiresAt: Date }>(config.collection)
  return {
    async dump() {
      const documents = await sessions.find().toArray()
      return documents.map(document => JSON.stringify(document, (_key, value: unknown) =>
        value && typeof value === 'object' && 'buffer' in value ? Buffer.from((value as { buffer: Uint8Array }).buffer).toString('latin1') : value)).join('\n')
    },
    async nativeExpiry(id) {
      const indexes = await sessions.indexes()
      if (!indexes.some(index => index.key.expiresAt === 1 && index.expireAfterSeconds === 0)) return undefined
      // A tombstone has no payload: it is not a live session.
      const document = await sessions.findOne({ _id: id, payload: { $exists: true } })
      return document ? Math.floor(document.expiresAt.getTime() / 1000) : undefined
    },
    async close() {
      await client.close()
    },
  }
}

const rawReaders: { [Name in BackendName]: (settings: never) => RawBackend } = {
  embedded: rawEmbedded,
  redis: rawRedis,
  postgres: rawPostgres,
  mongodb: rawMongo,
}

/** The raw view of the backend these settings (SESSION_STORE and the backend's variables) name. */
export function rawBackend(env: Record<string, string | undefined>): RawBackend {
  const config = readSessionStoreConfig(env)
  if (config.kind === 'cookie') throw new Error('SESSION_STORE=cookie has no backend to read.')
  return rawReaders[config.kind](config.backendSettings as never)
}
