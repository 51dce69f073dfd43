import { Redis } from 'ioredis'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { createSessionStore } from '~/server/utils/session-store-factory'
import type { EncryptedSessionStore } from '~/server/session-stores/encrypted-session-store'
import { missingServerBinary, startRedisServer } from '../support/disposable-servers'
import { newSessionId, newStateData } from '../support/state-data'
import { namespacesInRedis } from '../support/test-namespaces'
import { TEST_SECRET, testSessionStore } from './session-store-contract'

// The whole contract with the near cache on (docs/near-cache.md), then what the cache itself promises.
const REDIS_URL = process.env.REDIS_URL ?? 'redis://localhost:6379'
const PREFIX = 'auth0-test-near-'
const NEAR_CACHE = { REDIS_NEAR_CACHE: 'true' }

testSessionStore({
  name: 'redis',
  env: namespace => ({ REDIS_URL, REDIS_KEY_PREFIX: `${PREFIX}${namespace}:`, ...NEAR_CACHE }),
  namespacesHeld: () => namespacesInRedis({ REDIS_URL }, PREFIX),
  unreachable: { env: { REDIS_URL: 'redis://:hunter2@localhost:1', ...NEAR_CACHE }, address: 'localhost:1' },
  disposable: { start: () => startRedisServer(), env: server => ({ REDIS_URL: server.url, ...NEAR_CACHE }) },
})

/** How many session reads (HMGET) the server has answered: a hit of the near cache adds none. */
async function readsAnswered(redis: Redis): Promise<number> {
  const stats = await redis.info('commandstats')
  return Number(/^cmdstat_hmget:calls=(\d+)/m.exec(stats)?.[1] ?? 0)
}

/** Reads until the store's feed is confirmed and a read is kept (the first read starts the feed). */
async function cached(store: EncryptedSessionStore, id: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    await store.get(id)
    if (store.nearCache!.size > 0) return
    await sleep(20)
  }
  throw new Error('the near cache never kept the session')
}

describe.skipIf(missingServerBinary('redis'))('the near cache', () => {
  const opened: Array<{ close(): Promise<unknown> }> = []
  afterAll(async () => {
    for (const thing of opened.reverse()) await thing.close()
  })

  async function server(args: string[] = []) {
    const started = await startRedisServer(args)
    opened.push(started)
    const admin = new Redis(started.url)
    opened.push({ close: () => admin.quit() })
    // A whole minute of ttl: only an invalidation can explain a session that stops being served.
    const open = () => {
      const store = createSessionStore({ SESSION_STORE: 'redis', SESSION_STORE_SECRET: TEST_SECRET, REDIS_URL: started.url, ...NEAR_CACHE, REDIS_NEAR_CACHE_TTL_MS: '60000' }) as EncryptedSessionStore
      opened.push(store)
      return store
    }
    return { admin, open }
  }

  it('answers a read of a session it holds without asking Redis, with a copy the caller may change', async () => {
    const { admin, open } = await server()
    const store = open()
    const [id, state] = [newSessionId(), newStateData()]
    await store.set(id, state)
    await cached(store, id)
    const before = await readsAnswered(admin)
    for (let read = 0; read < 20; read++) expect(await store.get(id)).toEqual(state)
    expect(await readsAnswered(admin)).toBe(before)
    const copy = (await store.get(id))!
    copy.user!.sub = 'changed by the caller'
    expect(await store.get(id)).toEqual(state)
  })

  it('drops a session that another app server ended or rewrote, told by Redis', async () => {
    const { open } = await server()
    const [serverA, serverB] = [open(), open()]
    const [ended, rewritten] = [newSessionId(), newSessionId()]
    const state = newStateData()
    await serverA.set(ended, state)
    await serverA.set(rewritten, state)
    await cached(serverA, ended)
    await cached(serverA, rewritten)
    const newer = { ...state, idToken: 'a-refreshed-id-token' }
    await serverB.delete(ended)
    await serverB.set(rewritten, newer)
    // Redis tells serverA's feed within moments; with a minute of ttl, nothing else could drop them.
    await expect.poll(() => serverA.get(ended), { timeout: 5000, interval: 5 }).toBeUndefined()
    await expect.poll(() => serverA.get(rewritten), { timeout: 5000, interval: 5 }).toEqual(newer)
  })

  it('drops what a logout token ended on another app server', async () => {
    const { open } = await server()
    const [serverA, serverB] = [open(), open()]
    const [id, state] = [newSessionId(), newStateData()]
    await serverA.set(id, state)
    await cached(serverA, id)
    await serverB.deleteByLogoutToken({ sid: state.internal.sid, sub: state.user!.sub } as never)
    await expect.poll(() => serverA.get(id), { timeout: 5000, interval: 5 }).toBeUndefined()
  })

  it('turns itself off when its subscription is lost, and reads Redis until it is confirmed again', async () => {
    const { admin, open } = await server()
    const [serverA, serverB] = [open(), open()]
    const [id, state] = [newSessionId(), newStateData()]
    await serverA.set(id, state)
    await cached(serverA, id)
    // The tracking connection dies; what serverB does next is reported to nobody.
    await admin.client('KILL', 'TYPE', 'pubsub')
    await serverB.delete(id)
    expect(await serverA.get(id)).toBeUndefined()
    // Tracking again (a new connection, confirmed): what it kept before the gap is gone, new reads are kept.
    const [later, laterState] = [newSessionId(), newStateData()]
    await serverA.set(later, laterState)
    await cached(serverA, later)
    expect(await serverA.get(id)).toBeUndefined()
    expect(await serverA.get(later)).toEqual(laterState)
  })

  it('never serves from memory when Redis refuses client tracking: every read goes to Redis', async () => {
    const { admin, open } = await server(['--rename-command', 'CLIENT', ''])
    const store = open()
    const [id, state] = [newSessionId(), newStateData()]
    await store.set(id, state)
    const before = await readsAnswered(admin)
    for (let read = 0; read < 20; read++) {
      expect(await store.get(id)).toEqual(state)
      await sleep(20)
    }
    expect(await readsAnswered(admin) - before).toBe(20)
    expect(store.nearCache!.size).toBe(0)
  })
})
