// The Redis store on a Redis Cluster of 3 masters and 3 replicas that this file starts on loopback
// ports: the whole contract with its fault tests, the cluster's own settings, a hung master, and a
// master failover in the middle of load.
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, it } from 'vitest'
import type { EncryptedSessionStore } from '~/server/session-stores/encrypted-session-store'
import { createSessionStore } from '~/server/utils/session-store-factory'
import { missingServerBinary } from '../support/disposable-servers'
import { CALL_KINDS, failoverUnderLoad } from '../support/failover-under-load'
import { redisKeysUnder } from '../support/raw-backends'
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster'
import { newSessionId, newStateData } from '../support/state-data'
import { dropStoreData, namespacesInRedis, newNamespace } from '../support/test-namespaces'
import { TEST_SECRET, testSessionStore } from './session-store-contract'

const PREFIX = 'auth0-test-'
const skip = missingServerBinary('redis')

// The contract reads the settings while Vitest collects the tests, so the cluster is up before that.
const cluster = skip ? undefined : await startRedisCluster()
// Registered before the contract's own afterAll, so it runs after it (hooks unwind as a stack).
afterAll(async () => {
  await cluster?.close()
})

testSessionStore({
  name: 'redis',
  env: namespace => ({ ...cluster!.env(), REDIS_KEY_PREFIX: `${PREFIX}${namespace}:` }),
  namespacesHeld: () => namespacesInRedis(cluster!.env(), PREFIX),
  unreachable: { env: { REDIS_CLUSTER_NODES: '127.0.0.1:1,127.0.0.1:2', REDIS_PASSWORD: 'hunter2' }, address: '127.0.0.1:1' },
  // The fault tests freeze, kill and restart every node: the whole cluster is the store's server.
  disposable: { start: () => startRedisCluster(), env: server => (server as RedisCluster).env() },
  skip,
})

/** A store on `cluster`, in a namespace of its own; `settings` replace the cluster's (another way to name it). */
function storeOn(cluster: RedisCluster, settings: Record<string, string> = cluster.env()) {
  const env = { SESSION_STORE: 'redis', SESSION_STORE_SECRET: TEST_SECRET, ...settings, REDIS_KEY_PREFIX: `${PREFIX}${newNamespace()}:` }
  return { store: createSessionStore(env) as EncryptedSessionStore, env, sessionKey: (id: string) => `${env.REDIS_KEY_PREFIX}session:${id}` }
}

/** Calls `call` every 50 ms until it resolves, for at most `giveUpMs`; resolves with its value. */
async function untilAnswered<T>(call: () => Promise<T>, giveUpMs = 15_000): Promise<T> {
  const started = Date.now()
  for (;;) {
    try {
      return await call()
    }
    catch (error) {
      if (Date.now() - started > giveUpMs) throw error
      await sleep(50)
    }
  }
}

describe.skipIf(skip)('the Redis store on a Redis Cluster', () => {
  it('is reached through a redis+cluster:// URL naming one node, as managed clusters give one endpoint: it finds the others', async () => {
    const url = `redis+cluster://${cluster!.nodes[0]}`
    const { store, env } = storeOn(cluster!, { REDIS_URL: url })
    try {
      expect(store.location).toBe(url)
      const id = newSessionId()
      const state = newStateData()
      await store.set(id, state)
      expect(await store.get(id)).toEqual(state)
      await store.deleteByLogoutToken({ sid: state.internal.sid })
      expect(await store.get(id)).toBeUndefined()
    }
    finally {
      await store.close()
      await dropStoreData(env)
    }
  })

  it('leaves nothing on any master once its namespace is dropped', async () => {
    const { store, env } = storeOn(cluster!)
    const everything = `${env.REDIS_KEY_PREFIX}*`
    try {
      const sessions = Array.from({ length: 30 }, () => ({ id: newSessionId(), state: newStateData() }))
      for (const { id, state } of sessions) await store.set(id, state)
      await store.deleteByLogoutToken({ sid: sessions[0]!.state.internal.sid })
      const keys = await redisKeysUnder(env, everything)
      const masters = new Set(await Promise.all(keys.map(key => cluster!.masterOf(key))))
      expect(masters.size).toBe(3)

      await dropStoreData(env)

      expect(await redisKeysUnder(env, everything)).toEqual([])
    }
    finally {
      await store.close()
    }
  })

  it('with the near cache on, a session ended on one app server stops being served from another\'s memory, on every master', async () => {
    const nearCache = { ...cluster!.env(), REDIS_NEAR_CACHE: 'true', REDIS_NEAR_CACHE_TTL_MS: '60000' }
    const serverA = storeOn(cluster!, nearCache)
    const serverB = createSessionStore({ ...serverA.env }) as EncryptedSessionStore
    try {
      const sessions = Array.from({ length: 30 }, () => ({ id: newSessionId(), state: newStateData() }))
      for (const { id, state } of sessions) await serverA.store.set(id, state)
      const masters = new Set(await Promise.all(sessions.map(({ id }) => cluster!.masterOf(serverA.sessionKey(id)))))
      expect(masters.size).toBe(3)
      // Read until every one is kept: the first reads start the feed, which trusts itself once each master confirmed.
      await expect.poll(async () => {
        for (const { id } of sessions) await serverA.store.get(id)
        return serverA.store.nearCache!.size
      }, { timeout: 10_000 }).toBe(sessions.length)

      for (const { id } of sessions.slice(0, 15)) await serverB.delete(id)
      for (const { state } of sessions.slice(15)) await serverB.deleteByLogoutToken({ sid: state.internal.sid })

      // A minute of ttl: only Redis's reports can explain sessions that stop being served.
      for (const { id } of sessions) await expect.poll(() => serverA.store.get(id), { timeout: 5000, interval: 5 }).toBeUndefined()
    }
    finally {
      await serverA.store.close()
      await serverB.close()
      await dropStoreData(serverA.env)
    }
  })

  it('a hung master: calls on its sessions fail within the deadline with a 503; its replica then serves them while it still hangs', async () => {
    const ownCluster = await startRedisCluster()
    const { store, sessionKey } = storeOn(ownCluster)
    try {
      const sessions = Array.from({ length: 30 }, () => ({ id: newSessionId(), state: newStateData() }))
      for (const { id, state } of sessions) await store.set(id, state)
      await ownCluster.replicated()
      const hung = await ownCluster.masterOf(sessionKey(sessions[0]!.id))
      const slots = await ownCluster.slotsOfKeys(sessions.map(({ id }) => sessionKey(id)))
      const served = await ownCluster.slotsOf(hung)
      const onHung = sessions.filter((_, i) => served.some(([from, to]) => slots[i]! >= from && slots[i]! <= to))

      ownCluster.freeze(hung)
      const calls = Promise.all(onHung.slice(0, 3).map(({ id }) => store.get(id).then(() => undefined, (error: unknown) => error)))
      // The deadline is a timer on this event loop, as the contract's fault tests explain: not a stopwatch.
      expect(await Promise.race([calls, sleep(2000).then(() => 'still waiting')])).not.toBe('still waiting')
      for (const error of await calls) {
        expect(error).toMatchObject({ name: 'SessionStoreUnavailableError', statusCode: 503, message: expect.stringContaining('The redis session store at') })
      }

      // Its replica takes over after the cluster's node timeout; the store finds it by itself.
      await untilAnswered(async () => {
        if (await store.get(onHung[0]!.id) === undefined) throw new Error('not served yet')
      })
      for (const { id, state } of sessions) expect(await untilAnswered(() => store.get(id))).toEqual(state)
    }
    finally {
      ownCluster.thaw()
      await store.close()
      await ownCluster.close()
    }
  }, 60_000)

  it('a master killed in the middle of load: logins, reads and logouts work again soon after its replica is promoted, and no ended session comes back', async () => {
    const ownCluster = await startRedisCluster()
    const { store, sessionKey } = storeOn(ownCluster)
    try {
      const report = await failoverUnderLoad({ cluster: ownCluster, store, sessionKey })
      console.info(JSON.stringify({ failover: 'redis-cluster', ...report, resurrected: report.resurrected.length,
        lostWrites: { failedOver: report.lostWrites.failedOver.length, elsewhere: report.lostWrites.elsewhere.length } }))

      expect(report.resurrected).toEqual([])
      // Redis replicates asynchronously: a login acknowledged just before its master died may be lost
      // (the report counts them). Sessions that no failover touched have no such excuse.
      expect(report.lostWrites.elsewhere).toEqual([])
      // A failover is about time, so this is the one place a test bounds wall-clock time. The goal is
      // 2 s (issue 11), measured by the bench and printed above; the bound is five times that, so that a
      // loaded CI machine fails it only when calls do not come back by themselves.
      for (const kind of CALL_KINDS) {
        // Calls of each kind met the outage, or the time they resumed in would measure nothing.
        expect(report.onFailedOverSlots[kind].failed, `${kind} calls that failed on the failed-over slots`).toBeGreaterThan(0)
        expect(report.resumedMs[kind], `${kind} resumed after the promotion (ms)`).toBeLessThanOrEqual(10_000)
      }
    }
    finally {
      await store.close()
      await ownCluster.close()
    }
  }, 90_000)
})
