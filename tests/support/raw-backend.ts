import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { MongoClient } from 'mongodb'
import pg from 'pg'
import { readSessionStoreConfig, type BackendConfig } from '~/server/session-stores/session-store-config'

/** Reads a backend directly, as an attacker with a database dump (or an operator) would. */
export interface RawBackend {
  /** Everything the store keeps, as text. */
  dump(): Promise<string>
  /** When the backend itself will drop this session (Unix seconds), or undefined if it holds none. */
  nativeExpiry(id: string): Promise<number | undefined>
  close(): Promise<void>
}

async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true }).catch(() => [])
  return entries.filter(entry => entry.isFile()).map(entry => join(entry.parentPath, entry.name))
}

function rawEmbedded(config: Extract<BackendConfig, { kind: 'embedded' }>): RawBackend {
  return {
    async dump() {
      const files = await filesUnder(config.directory)
      return (await Promise.all(files.map(file => readFile(file, 'utf8')))).join('\n')
    },
    async nativeExpiry(id) {
      const text = await readFile(join(config.directory, 'session', id), 'utf8').catch(() => undefined)
      return text === undefined ? undefined : (JSON.parse(text) as { expiresAt: number }).expiresAt
    },
    async close() {},
  }
}

function rawRedis(config: Extract<BackendConfig, { kind: 'redis' }>): RawBackend {
  const redis = new Redis(config.url)
  return {
    async dump() {
      const keys = await redis.keys(`${config.keyPrefix}*`)
      const values = await Promise.all(keys.map(async (key) => {
        const type = await redis.type(key)
        if (type === 'hash') return JSON.stringify(await redis.hgetall(key))
        if (type === 'set') return JSON.stringify(await redis.smembers(key))
        return String(await redis.get(key))
      }))
      return [...keys, ...values].join('\n')
    },
    async nativeExpiry(id) {
      const ttl = await redis.ttl(`${config.keyPrefix}session:${id}`)
      return ttl > 0 ? Math.floor(Date.now() / 1000) + ttl : undefined
    },
    async close() {
      await redis.quit()
    },
  }
}

function rawPostgres(config: Extract<BackendConfig, { kind: 'postgres' }>): RawBackend {
  const pool = new pg.Pool({ connectionString: config.connectionString })
  return {
    async dump() {
      const sessions = await pool.query(`SELECT t::text AS row, encode(payload, 'escape') AS payload FROM ${config.table} t`)
      const revocations = await pool.query(`SELECT t::text AS row FROM ${config.table}_revocations t`)
      return [...sessions.rows, ...revocations.rows].map(row => `${row.row} ${row.payload ?? ''}`).join('\n')
    },
    async nativeExpiry(id) {
      const { rows } = await pool.query(`SELECT extract(epoch FROM expires_at)::bigint AS e FROM ${config.table} WHERE id = $1`, [id])
      return rows[0] ? Number(rows[0].e) : undefined
    },
    async close() {
      await pool.end()
    },
  }
}

function rawMongo(config: Extract<BackendConfig, { kind: 'mongodb' }>): RawBackend {
  const client = new MongoClient(config.uri)
  const sessions = client.db(config.database).collection<{ _id: string, expiresAt: Date }>(config.collection)
  return {
    async dump() {
      const documents = [
        ...await sessions.find().toArray(),
        ...await client.db(config.database).collection(`${config.collection}_revocations`).find().toArray(),
      ]
      return documents.map(document => JSON.stringify(document, (_key, value: unknown) =>
        value && typeof value === 'object' && 'buffer' in value ? Buffer.from((value as { buffer: Uint8Array }).buffer).toString('latin1') : value)).join('\n')
    },
    async nativeExpiry(id) {
      const indexes = await sessions.indexes()
      if (!indexes.some(index => index.key.expiresAt === 1 && index.expireAfterSeconds === 0)) return undefined
      const document = await sessions.findOne({ _id: id })
      return document ? Math.floor(document.expiresAt.getTime() / 1000) : undefined
    },
    async close() {
      await client.close()
    },
  }
}

/** The raw view of the backend this test project's SESSION_STORE names. */
export function rawBackend(): RawBackend {
  const config = readSessionStoreConfig(process.env)
  if (config.kind === 'cookie') throw new Error('SESSION_STORE=cookie has no backend to read.')
  const backend = config.backend
  switch (backend.kind) {
    case 'embedded': return rawEmbedded(backend)
    case 'redis': return rawRedis(backend)
    case 'postgres': return rawPostgres(backend)
    case 'mongodb': return rawMongo(backend)
  }
}
