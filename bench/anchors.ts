import type { Store, SessionData } from 'express-session'
import session from 'express-session'
import { RedisStore } from 'connect-redis'
import connectPgSimple from 'connect-pg-simple'
import MongoStore from 'connect-mongo'
import { Redis } from 'ioredis'
import { MongoClient } from 'mongodb'
import pg from 'pg'
import { DATABASE_URL, deleteRedisKeys, dropNamespace, MONGODB_DATABASE, MONGODB_URI, openStore, postgresQuery, type StoreKind } from './backends'
import type { GoalFigures } from './goals'
import { compareLatency, type Rounds } from './measure'
import { newSampleSession } from './sample-sessions'
import type { Table } from './table'

const PLAN: Partial<Record<StoreKind, Rounds>> = {
  redis: { rounds: 10, perRound: 300, warmup: 300 },
  postgres: { rounds: 10, perRound: 60, warmup: 60 },
  mongodb: { rounds: 10, perRound: 100, warmup: 100 },
}

const CONNECT_PG_TABLE = 'bench_connect_pg_simple'

interface Anchor {
  name: string
  store: Store
  close: () => Promise<void>
}

/** The express-session store people would otherwise use with each database. */
async function openAnchor(kind: StoreKind): Promise<Anchor | undefined> {
  switch (kind) {
    case 'redis': {
      const client = new Redis(process.env.REDIS_URL ?? 'redis://localhost:6379')
      return {
        name: 'connect-redis 8 (ioredis)',
        store: new RedisStore({ client, prefix: 'bench:connect-redis:' }),
        close: async () => {
          await deleteRedisKeys('bench:connect-redis:')
          client.disconnect()
        },
      }
    }
    case 'postgres': {
      const PgStore = connectPgSimple(session)
      const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 })
      const store = new PgStore({ pool, tableName: CONNECT_PG_TABLE, createTableIfMissing: true, pruneSessionInterval: false })
      return {
        name: 'connect-pg-simple',
        store,
        close: async () => {
          await store.close()
          await pool.end()
          await postgresQuery(`DROP TABLE IF EXISTS ${CONNECT_PG_TABLE}`)
        },
      }
    }
    case 'mongodb': {
      const client = await new MongoClient(MONGODB_URI).connect()
      return {
        name: 'connect-mongo',
        store: MongoStore.create({ client, dbName: MONGODB_DATABASE, collectionName: 'bench_connect_mongo', autoRemove: 'disabled' }),
        close: async () => {
          await client.db(MONGODB_DATABASE).collection('bench_connect_mongo').drop().catch(() => undefined)
          await client.close()
        },
      }
    }
    case 'embedded':
      return undefined
  }
}

function promised<T>(call: (callback: (error: unknown, value?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => call((error, value) => error ? reject(error) : resolve(value)))
}

async function measureAnchor(kind: StoreKind, anchor: Anchor, goals: GoalFigures): Promise<Table['rows']> {
  const ours = openStore(kind, 'anchors')
  try {
    const { id, state } = newSampleSession()
    // What express-session would hand its store: the cookie settings beside the data.
    const sessionData = { cookie: { originalMaxAge: 86_400_000, expires: new Date(Date.now() + 86_400_000), httpOnly: true, path: '/' }, ...state } as unknown as SessionData
    await ours.set(id, state)
    await promised(callback => anchor.store.set(id, sessionData, callback))
    const latency = await compareLatency({
      oursGet: { run: () => ours.get(id) },
      theirsGet: { run: () => promised(callback => anchor.store.get(id, callback)) },
      oursSet: { run: () => ours.set(id, state) },
      theirsSet: { run: () => promised(callback => anchor.store.set(id, sessionData, callback)) },
    }, PLAN[kind]!)
    const get = latency.oursGet.p50 / latency.theirsGet.p50
    const set = latency.oursSet.p50 / latency.theirsSet.p50
    if (kind === 'redis') goals.record('redisGetVsConnectRedis', get)
    if (kind === 'postgres') {
      goals.record('postgresGetVsConnectPgSimple', get)
      goals.record('postgresSetVsConnectPgSimple', set)
    }
    return [
      [kind, 'get', latency.oursGet.p50, latency.theirsGet.p50, latency.oursGet.p99, latency.theirsGet.p99, get],
      [kind, 'set', latency.oursSet.p50, latency.theirsSet.p50, latency.oursSet.p99, latency.theirsSet.p99, set],
    ]
  }
  finally {
    await ours.close()
    await dropNamespace(kind, 'anchors')
  }
}

export async function anchors(kinds: StoreKind[], goals: GoalFigures): Promise<Table[]> {
  const rows: Table['rows'] = []
  const names: string[] = []
  for (const kind of kinds) {
    const anchor = await openAnchor(kind)
    if (!anchor) continue
    try {
      rows.push(...await measureAnchor(kind, anchor, goals))
      names.push(`${kind}: ${anchor.name}`)
    }
    finally {
      await anchor.close()
    }
  }
  return [{
    title: 'Ours against the express-session store for the same database',
    columns: [
      { name: 'database', unit: 'text' }, { name: 'operation', unit: 'text' },
      { name: 'ours p50 µs', unit: 'µs' }, { name: 'theirs p50 µs', unit: 'µs' },
      { name: 'ours p99 µs', unit: 'µs' }, { name: 'theirs p99 µs', unit: 'µs' },
      { name: 'ours / theirs (p50)', unit: 'ratio' },
    ],
    rows,
    notes: [
      `Theirs: ${names.join('; ')}, through express-session's Store API (store.get(sid, cb), store.set(sid, session, cb)), holding the same StateData as plain JSON.`,
      'Ours encrypts it (AES-256-GCM) and keeps the sid/sub index and the revocation check; theirs do neither. Measured in alternating rounds.',
    ],
  }]
}
