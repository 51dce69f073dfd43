import { randomBytes } from 'node:crypto'
import { SessionCrypto } from '../server/session-stores/session-crypto'
import type { EncryptedSessionStore } from '../server/session-stores/encrypted-session-store'
import { missingServerBinary } from '../tests/support/disposable-servers'
import { startRedisCluster } from '../tests/support/redis-cluster'
import { dropNamespace, openFloor, openRedisClusterFloor, openStore, SECRET, type Floor, type StoreKind } from './backends'
import type { GoalFigures } from './goals'
import { compareLatency, compareThroughput, type Latency, type Operation, type Rounds } from './measure'
import { logoutClaims, newSampleSession, randomPayloadLike, type SampleSession } from './sample-sessions'
import type { Table } from './table'

// Redis answers in about 0.1 ms; PostgreSQL and files wait for the disk (fsync) on writes.
const LATENCY: Record<StoreKind, Rounds> = {
  embedded: { rounds: 10, perRound: 60, warmup: 60 },
  redis: { rounds: 10, perRound: 300, warmup: 300 },
  postgres: { rounds: 10, perRound: 60, warmup: 60 },
  mongodb: { rounds: 10, perRound: 100, warmup: 100 },
}
const THROUGHPUT: Rounds = { rounds: 6, perRound: 3_000, warmup: 1_000 }
const IN_FLIGHT = 32

const columns: Table['columns'] = [
  { name: 'operation', unit: 'text' },
  { name: 'ours p50 µs', unit: 'µs' },
  { name: 'ours p99 µs', unit: 'µs' },
  { name: 'ours ops/s', unit: 'ops/s' },
  { name: 'floor p50 µs', unit: 'µs' },
  { name: 'floor p99 µs', unit: 'µs' },
  { name: 'floor ops/s', unit: 'ops/s' },
  { name: 'ours / floor (p50)', unit: 'ratio' },
]

function row(name: string, ours: Latency, floor: Latency): Table['rows'][number] {
  return [name, ours.p50, ours.p99, ours.opsPerSecond, floor.p50, floor.p99, floor.opsPerSecond, ours.p50 / floor.p50]
}

/** A session that exists before each timed run, and is checked to be gone after it. */
function deleting(store: EncryptedSessionStore, remove: (session: SampleSession) => Promise<void>): Operation {
  let session = newSampleSession()
  return {
    prepare: async () => {
      session = newSampleSession()
      await store.set(session.id, session.state)
    },
    run: () => remove(session),
    verify: async () => {
      if (await store.get(session.id)) throw new Error(`The session ${session.id} outlived its deletion.`)
    },
  }
}

function floorDeleting(floor: Floor): Operation {
  return { prepare: () => floor.set('delete', randomBytes(64)), run: () => floor.delete('delete') }
}

const OPERATIONS = ['get', 'set', 'delete', 'deleteByLogoutToken'] as const
type OperationName = typeof OPERATIONS[number]

/** The store's operations on `session`, which is stored. */
function storeOperationsOn(store: EncryptedSessionStore, session: SampleSession): Record<OperationName, Operation> {
  return {
    get: { run: () => store.get(session.id) },
    set: { run: () => store.set(session.id, session.state) },
    delete: deleting(store, other => store.delete(other.id)),
    deleteByLogoutToken: deleting(store, other => store.deleteByLogoutToken(logoutClaims(other))),
  }
}

/** The round trip each store operation cannot avoid, with `bytes`, which the floor holds at its `get` key. */
function floorOperations(floor: Floor, bytes: Buffer): Record<OperationName, Operation> {
  return {
    get: { run: () => floor.get('get') },
    set: { run: () => floor.set('set', bytes) },
    delete: floorDeleting(floor),
    deleteByLogoutToken: floorDeleting(floor),
  }
}

async function measureStore(kind: StoreKind, goals: GoalFigures): Promise<Table> {
  const store = openStore(kind, 'operations')
  const floor = await openFloor(kind)
  try {
    const session = newSampleSession()
    await store.set(session.id, session.state)
    const bytes = randomPayloadLike(session)
    await floor.set('get', bytes)

    const ours = storeOperationsOn(store, session)
    const raw = floorOperations(floor, bytes)
    const rows: Table['rows'] = []
    for (const name of OPERATIONS) {
      const latency = await compareLatency({ ours: ours[name], raw: raw[name] }, LATENCY[kind])
      rows.push(row(name, latency.ours, latency.raw))
      if (kind === 'redis' && name === 'get') goals.record('redisGetVsRawGet', latency.ours.p50 / latency.raw.p50)
      if (kind === 'redis' && name === 'set') goals.record('redisSetVsRawSet', latency.ours.p50 / latency.raw.p50)
    }
    const throughput = await compareThroughput({ ours: () => store.get(session.id), raw: () => floor.get('get') }, IN_FLIGHT, THROUGHPUT)
    rows.push([`get, ${IN_FLIGHT} in flight`, null, null, throughput.ours, null, null, throughput.raw, throughput.raw / throughput.ours])
    return {
      title: `${kind}: store operations (${bytes.length} bytes stored per session)`,
      columns,
      rows,
      notes: [
        `Ours: the store the app uses (createSessionStore), encrypting and indexing. Floor: ${floorText[kind]}.`,
        `Latency: one operation in flight, ${LATENCY[kind].rounds} rounds of ${LATENCY[kind].perRound} alternating ours and floor, after ${LATENCY[kind].warmup} warm-up; ops/s = 1 / mean latency. `
        + 'delete and deleteByLogoutToken each delete a session written (untimed) just before; their floor is one delete by key.',
      ],
    }
  }
  finally {
    await store.close()
    await floor.close()
    await dropNamespace(kind, 'operations')
  }
}

/**
 * The Redis store on a Cluster of 3 masters and 3 replicas of the bench's own (loopback ports), against
 * raw commands through an ioredis Cluster client, and against the same store on the standalone Redis,
 * all three in the same alternating rounds.
 */
async function measureRedisCluster(): Promise<Table> {
  const cluster = await startRedisCluster()
  const store = openStore('redis', 'cluster', cluster.env())
  const standalone = openStore('redis', 'cluster_standalone')
  const floor = await openRedisClusterFloor(cluster.nodes)
  try {
    const session = newSampleSession()
    await store.set(session.id, session.state)
    await standalone.set(session.id, session.state)
    const bytes = randomPayloadLike(session)
    await floor.set('get', bytes)

    const ours = storeOperationsOn(store, session)
    const raw = floorOperations(floor, bytes)
    const onStandalone = storeOperationsOn(standalone, session)
    const rows: Table['rows'] = []
    for (const name of OPERATIONS) {
      const latency = await compareLatency({ ours: ours[name], raw: raw[name], standalone: onStandalone[name] }, LATENCY.redis)
      rows.push([...row(name, latency.ours, latency.raw), latency.standalone.p50, latency.ours.p50 / latency.standalone.p50])
    }
    const throughput = await compareThroughput({
      ours: () => store.get(session.id), raw: () => floor.get('get'), standalone: () => standalone.get(session.id),
    }, IN_FLIGHT, THROUGHPUT)
    rows.push([`get, ${IN_FLIGHT} in flight`, null, null, throughput.ours, null, null, throughput.raw, throughput.raw / throughput.ours, null, throughput.standalone / throughput.ours])
    return {
      title: `redis cluster (3 masters, 3 replicas): store operations (${bytes.length} bytes stored per session)`,
      columns: [...columns, { name: 'standalone p50 µs', unit: 'µs' }, { name: 'cluster / standalone (p50)', unit: 'ratio' }],
      rows,
      notes: [
        'Ours: the Redis store with REDIS_CLUSTER_NODES naming a cluster of the bench\'s own (tests/support/redis-cluster.ts: Debian\'s redis-server, '
        + 'AOF on, loopback ports, cluster-node-timeout 1 s). Floor: ioredis Cluster GET, SET EX or DEL of a buffer of the same size. '
        + 'Standalone: the same store on the standalone Redis (REDIS_URL), measured in the same rounds.',
        'On a cluster each of a session\'s keys (the session, its sid and sub indexes) may live on another master, and a logout waits for one replica '
        + 'to hold the tombstone (REDIS_WAIT_FOR_REPLICAS, default 1 on a cluster): delete and deleteByLogoutToken pay a WAIT that the floor\'s DEL does not.',
        `Latency: one operation in flight, ${LATENCY.redis.rounds} rounds of ${LATENCY.redis.perRound} alternating ours, floor and standalone, after ${LATENCY.redis.warmup} warm-up. `
        + `The ${IN_FLIGHT}-in-flight row's ratios are ops/s: floor / ours, standalone / ours. Six redis-servers, the bench and the standalone Redis share the machine's cores.`,
      ],
    }
  }
  finally {
    await store.close()
    await standalone.close()
    await floor.close()
    await cluster.close()
    await dropNamespace('redis', 'cluster_standalone')
  }
}

const floorText: Record<StoreKind, string> = {
  embedded: 'one file read, write or unlink of the same bytes (node:fs)',
  redis: 'ioredis GET, SET EX or DEL of a buffer of the same size',
  postgres: 'pg SELECT, INSERT ... ON CONFLICT DO UPDATE or DELETE by primary key on a table (id text, payload bytea)',
  mongodb: 'findOne, replaceOne (upsert) or deleteOne by _id',
}

/** AES-256-GCM alone, to tell the crypto's share of get and set from the I/O's. */
async function measureCrypto(): Promise<Table> {
  const crypto = new SessionCrypto(SECRET)
  const session = newSampleSession()
  const plaintext = JSON.stringify(session.state)
  const sealed = crypto.seal(session.id, plaintext)
  const latency = await compareLatency({
    seal: { run: async () => crypto.seal(session.id, plaintext) },
    open: { run: async () => crypto.open(session.id, sealed) },
    'JSON.stringify + seal': { run: async () => crypto.seal(session.id, JSON.stringify(session.state)) },
    'open + JSON.parse': { run: async () => JSON.parse(crypto.open(session.id, sealed)!) },
  }, { rounds: 10, perRound: 1_000, warmup: 1_000 })
  return {
    title: `SessionCrypto alone (${Buffer.byteLength(plaintext)} bytes of StateData JSON)`,
    columns: [{ name: 'operation', unit: 'text' }, { name: 'p50 µs', unit: 'µs' }, { name: 'p99 µs', unit: 'µs' }, { name: 'ops/s', unit: 'ops/s' }],
    rows: Object.entries(latency).map(([name, figures]) => [name, figures.p50, figures.p99, figures.opsPerSecond]),
    notes: ['AES-256-GCM with a fresh 12-byte IV, the session id as additional data; in this process, no I/O.'],
  }
}

export async function storeOperations(kinds: StoreKind[], goals: GoalFigures): Promise<Table[]> {
  const tables = [await measureCrypto()]
  for (const kind of kinds) tables.push(await measureStore(kind, goals))
  if (kinds.includes('redis')) {
    const missing = missingServerBinary('redis')
    if (missing) console.log(`redis cluster skipped: ${missing}`)
    else tables.push(await measureRedisCluster())
  }
  return tables
}
