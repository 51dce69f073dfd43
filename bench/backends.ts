import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Cluster, Redis } from 'ioredis'
import { MongoClient, Binary } from 'mongodb'
import pg from 'pg'
import { EncryptedSessionStore } from '../server/session-stores/encrypted-session-store'
import { createSessionStore } from '../server/utils/session-store-factory'

export type StoreKind = 'embedded' | 'redis' | 'postgres' | 'mongodb'
export const STORE_KINDS: StoreKind[] = ['embedded', 'redis', 'postgres', 'mongodb']

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://localhost:6379'
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres:postgres@localhost:5432/auth0_sessions'
export const MONGODB_URI = process.env.MONGODB_URI ?? ''
export const MONGODB_DATABASE = 'auth0_sessions'
export const SECRET = 'a-bench-only-secret-of-at-least-32-characters'

/**
 * The settings createSessionStore reads, in a namespace of the bench's own (`bench:<name>:`,
 * `auth0_sessions_bench_<name>`, ...), so that the app's and the tests' sessions are never touched.
 */
export function storeEnv(kind: StoreKind, namespace: string): Record<string, string> {
  const common = { SESSION_STORE: kind, SESSION_STORE_SECRET: SECRET }
  switch (kind) {
    case 'embedded': return { ...common, EMBEDDED_STORE_DIR: join(tmpdir(), `auth0-bench-${namespace}`) }
    case 'redis': return { ...common, REDIS_URL, REDIS_KEY_PREFIX: `bench:${namespace}:` }
    case 'postgres': return { ...common, DATABASE_URL, POSTGRES_SESSION_TABLE: `auth0_sessions_bench_${namespace}` }
    case 'mongodb': return { ...common, MONGODB_URI, MONGODB_DATABASE, MONGODB_COLLECTION: `sessions_bench_${namespace}` }
  }
}

/** No request being served, as for a script. The factory's default asks Nitro, which throws outside a request: about 40 µs a call here. */
const OUTSIDE_A_REQUEST = { userAgent: () => undefined }

/**
 * The store exactly as the app builds it, through the factory; `settings` add to (or override) storeEnv's.
 * Outside a request: a get notes no last activity, a set reads nothing first to tell a sign-in.
 */
export function openStore(kind: StoreKind, namespace: string, settings: Record<string, string> = {}): EncryptedSessionStore {
  const info = console.info
  console.info = () => {} // the factory's "sessions are kept in ..." line, once per store: noise here
  try {
    const store = createSessionStore({ ...storeEnv(kind, namespace), ...settings }, OUTSIDE_A_REQUEST)
    if (!(store instanceof EncryptedSessionStore)) throw new Error(`No ${kind} store: ${store?.reason ?? 'the factory returned none'}`)
    return store
  }
  finally {
    console.info = info
  }
}

/** Why `kind` cannot be measured here, or undefined when it can. */
export async function unreachable(kind: StoreKind): Promise<string | undefined> {
  if (kind === 'mongodb' && !MONGODB_URI) return 'MONGODB_URI not set'
  const store = openStore(kind, 'ping')
  try {
    await store.ping()
    return undefined
  }
  catch (error) {
    return error instanceof Error ? error.message : String(error)
  }
  finally {
    await store.close()
    await dropNamespace(kind, 'ping')
  }
}

/** Deletes everything a store in `namespace` wrote: keys, tables and functions, documents, files. */
export async function dropNamespace(kind: StoreKind, namespace: string): Promise<void> {
  const env = storeEnv(kind, namespace)
  switch (kind) {
    case 'embedded':
      await rm(env.EMBEDDED_STORE_DIR!, { recursive: true, force: true })
      return
    case 'redis':
      await deleteRedisKeys(`bench:${namespace}:`)
      return
    case 'postgres': {
      const table = env.POSTGRES_SESSION_TABLE!
      // The rate limiter's table too: the store creates it beside the sessions' (postgres.ts).
      await postgresQuery(`DROP TABLE IF EXISTS ${table}, ${table}_rate_limits`)
      return
    }
    case 'mongodb': {
      const client = await new MongoClient(MONGODB_URI).connect()
      const db = client.db(MONGODB_DATABASE)
      await db.collection(env.MONGODB_COLLECTION!).drop().catch(() => undefined)
      await client.close()
    }
  }
}

/** SCAN and UNLINK in batches: no KEYS, no FLUSHDB (other data lives in the same Redis). */
export async function deleteRedisKeys(prefix: string): Promise<number> {
  const redis = new Redis(REDIS_URL)
  let deleted = 0
  try {
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 10_000 }) as AsyncIterable<string[]>) {
      if (keys.length) deleted += await redis.unlink(...keys)
    }
    return deleted
  }
  finally {
    redis.disconnect()
  }
}

export async function postgresQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL })
  await client.connect()
  try {
    await client.query(sql)
  }
  finally {
    await client.end()
  }
}

/**
 * The floor: the raw client doing the one round-trip a store operation cannot avoid, with the same
 * bytes, by primary key. Our cost is printed as a ratio of this.
 */
export interface Floor {
  get(key: string): Promise<unknown>
  set(key: string, bytes: Buffer): Promise<unknown>
  delete(key: string): Promise<unknown>
  close(): Promise<void>
}

const DAY_SECONDS = 86_400
const REDIS_FLOOR_PREFIX = 'bench:floor:'

/** GET, SET EX and DEL by key, on one Redis or through a Cluster client (which sends each to its key's master). */
function redisFloor(redis: Redis | Cluster, close: () => Promise<void>): Floor {
  return {
    get: key => redis.getBuffer(REDIS_FLOOR_PREFIX + key),
    set: (key, bytes) => redis.set(REDIS_FLOOR_PREFIX + key, bytes, 'EX', DAY_SECONDS),
    delete: key => redis.del(REDIS_FLOOR_PREFIX + key),
    close,
  }
}

/** The floor on a Redis Cluster (`host:port` nodes): an ioredis Cluster client. The cluster is the bench's own, so nothing is deleted. */
export async function openRedisClusterFloor(nodes: string[]): Promise<Floor> {
  const cluster = new Cluster(nodes.map((node) => {
    const [host, port] = node.split(':')
    return { host: host!, port: Number(port) }
  }))
  await cluster.ping()
  return redisFloor(cluster, async () => {
    await cluster.quit()
  })
}

export async function openFloor(kind: StoreKind): Promise<Floor> {
  switch (kind) {
    case 'embedded': {
      // The embedded store keeps one file per session: a file read or write is its floor.
      const directory = join(tmpdir(), 'auth0-bench-floor')
      await mkdir(directory, { recursive: true })
      return {
        get: key => readFile(join(directory, key)),
        set: (key, bytes) => writeFile(join(directory, key), bytes),
        delete: key => rm(join(directory, key)),
        close: () => rm(directory, { recursive: true, force: true }),
      }
    }
    case 'redis': {
      const redis = new Redis(REDIS_URL)
      return redisFloor(redis, async () => {
        await deleteRedisKeys(REDIS_FLOOR_PREFIX)
        redis.disconnect()
      })
    }
    case 'postgres': {
      // The same pool size as the store's.
      const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 })
      await pool.query('CREATE TABLE IF NOT EXISTS bench_floor (id text PRIMARY KEY, payload bytea NOT NULL)')
      return {
        get: key => pool.query('SELECT payload FROM bench_floor WHERE id = $1', [key]),
        set: (key, bytes) => pool.query(
          'INSERT INTO bench_floor (id, payload) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET payload = EXCLUDED.payload', [key, bytes]),
        delete: key => pool.query('DELETE FROM bench_floor WHERE id = $1', [key]),
        close: async () => {
          await pool.query('DROP TABLE IF EXISTS bench_floor')
          await pool.end()
        },
      }
    }
    case 'mongodb': {
      const client = await new MongoClient(MONGODB_URI).connect()
      const collection = client.db(MONGODB_DATABASE).collection<{ _id: string, payload: Binary }>('bench_floor')
      return {
        get: key => collection.findOne({ _id: key }),
        set: (key, bytes) => collection.replaceOne({ _id: key }, { payload: new Binary(bytes) }, { upsert: true }),
        delete: key => collection.deleteOne({ _id: key }),
        close: async () => {
          await collection.drop().catch(() => undefined)
          await client.close()
        },
      }
    }
  }
}
