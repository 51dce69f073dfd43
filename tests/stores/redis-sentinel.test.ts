// The Redis store on a master and its replica watched by Sentinel, all started by this file on
// loopback ports: the whole contract with its fault tests, then what a failover does to the sessions
// of a store that keeps running through it.
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, it } from 'vitest'
import type { StateData } from '@auth0/auth0-nuxt'
import type { EncryptedSessionStore } from '~/server/session-stores/encrypted-session-store'
import { createSessionStore } from '~/server/utils/session-store-factory'
import { missingServerBinary } from '../support/disposable-servers'
import { startRedisSentinel, type RedisSentinel } from '../support/redis-sentinel'
import { newSessionId, newStateData } from '../support/state-data'
import { dropStoreData, namespacesInRedis, newNamespace } from '../support/test-namespaces'
import { TEST_SECRET, testSessionStore } from './session-store-contract'

const PREFIX = 'auth0-test-'
/** The store's default deadline (SESSION_STORE_TIMEOUT_MS): how soon it must follow a new master. */
const STORE_DEADLINE_MS = 1000
const skip = missingServerBinary('redis')

// The contract reads the settings while Vitest collects the tests, so the setup is up before that.
const sentinel = skip ? undefined : await startRedisSentinel()
// Registered before the contract's own afterAll, so it runs after it (hooks unwind as a stack).
afterAll(async () => {
  await sentinel?.close()
})

testSessionStore({
  name: 'redis',
  env: namespace => ({ ...sentinel!.env(), REDIS_KEY_PREFIX: `${PREFIX}${namespace}:` }),
  namespacesHeld: () => namespacesInRedis(sentinel!.env(), PREFIX),
  unreachable: { env: { REDIS_SENTINELS: '127.0.0.1:1,127.0.0.1:2', REDIS_PASSWORD: 'hunter2' }, address: '127.0.0.1:1' },
  // The fault tests freeze, kill and restart the sentinel and both servers: the whole setup is the store's server.
  disposable: { start: () => startRedisSentinel(), env: server => (server as RedisSentinel).env() },
  skip,
})

/** A store on `setup`, in a namespace of its own; `settings` replace the setup's (another way to name it). */
function storeOn(setup: RedisSentinel, settings: Record<string, string> = setup.env()) {
  const env = { SESSION_STORE: 'redis', SESSION_STORE_SECRET: TEST_SECRET, ...settings, REDIS_KEY_PREFIX: `${PREFIX}${newNamespace()}:` }
  return { store: createSessionStore(env) as EncryptedSessionStore, env }
}

/** Calls `call` every 50 ms until it resolves, for at most `giveUpMs`; resolves with how long that took. */
async function msUntilAnswered(call: () => Promise<unknown>, giveUpMs = 10_000): Promise<number> {
  const started = Date.now()
  for (;;) {
    try {
      await call()
      return Date.now() - started
    }
    catch (error) {
      if (Date.now() - started > giveUpMs) throw error
      await sleep(50)
    }
  }
}

/** Signed-in sessions, and two more that ended: one by the user's logout, one by a back-channel logout. */
async function sessionsBefore(store: EncryptedSessionStore) {
  const kept = Array.from({ length: 10 }, () => ({ id: newSessionId(), state: newStateData() }))
  const [loggedOut, revoked] = [{ id: newSessionId(), state: newStateData() }, { id: newSessionId(), state: newStateData() }]
  for (const { id, state } of [...kept, loggedOut, revoked]) await store.set(id, state)
  await store.delete(loggedOut.id)
  await store.deleteByLogoutToken({ sid: revoked.state.internal.sid })
  return { kept, ended: [loggedOut, revoked] }
}


/** Resolves whether `call` succeeded: under load through a failover, some calls fail with a 503, as they should. */
const succeeded = (call: Promise<unknown>) => call.then(() => true, () => false)

describe.skipIf(skip)('the Redis store through Sentinel', () => {
  it('is reached through a redis+sentinel:// URL as through REDIS_SENTINELS', async ({ expect }) => {
    const { store, env } = storeOn(sentinel!, { REDIS_URL: sentinel!.url })
    try {
      expect(store.location).toBe(sentinel!.url)
      const id = newSessionId()
      const state = newStateData()
      await store.set(id, state)
      expect(await store.get(id)).toEqual(state)
      await store.delete(id)
      expect(await store.get(id)).toBeUndefined()
    }
    finally {
      await store.close()
      await dropStoreData(env)
    }
  })

  // A Sentinel's demotion of the old master takes about 10 s, so the stories run side by side, each on
  // a setup of its own. The setups start first: starting one (its servers' readiness is polled with
  // redis-cli, synchronously) holds this event loop for moments that would fail another story's calls.
  describe.concurrent('through a failover, the same store keeps running', () => {
    const setups: RedisSentinel[] = []
    beforeAll(async () => {
      const started = await Promise.allSettled(Array.from({ length: 3 }, () => startRedisSentinel()))
      for (const result of started) if (result.status === 'fulfilled') setups.push(result.value)
      const failed = started.find(result => result.status === 'rejected')
      if (failed) throw failed.reason
    }, 30_000)
    afterAll(async () => {
      await Promise.all(setups.map(setup => setup.close()))
    })

    it('a manual failover (SENTINEL FAILOVER): the store reads its sessions on the new master and signs in new ones; a session ended before stays ended', async ({ expect }) => {
      const own = setups[0]!
      const { store } = storeOn(own)
      try {
        const { kept, ended } = await sessionsBefore(store)
        const oldMaster = await own.masterPort()

        const times = await own.failover()
        expect(await own.masterPort()).not.toBe(oldMaster)
        const fresh = { id: newSessionId(), state: newStateData() }
        const storeWroteAgainMs = await msUntilAnswered(() => store.set(fresh.id, fresh.state))
        console.info(JSON.stringify({ failover: 'redis-sentinel, SENTINEL FAILOVER', ...times, storeWroteAgainMs }))

        for (const { id, state } of kept) expect(await store.get(id)).toEqual(state)
        expect(await store.get(fresh.id)).toEqual(fresh.state)
        // The logouts waited for the replica (REDIS_WAIT_FOR_REPLICAS): its tombstones refuse a refresh still in flight.
        for (const { id, state } of ended) {
          await store.set(id, state)
          expect(await store.get(id), `session ${id}, ended before the failover`).toBeUndefined()
        }
        await store.delete(fresh.id)
        expect(await store.get(fresh.id)).toBeUndefined()
      }
      finally {
        await store.close()
      }
    }, 40_000)

    // Without ioredis's failoverDetector the store kept using the old master, still a master until the
    // sentinel demotes it about 10 s later, and what it wrote there was discarded: logins lost, logouts
    // undone. The store now follows the sentinel's +switch-master.
    it('during a manual failover, logins and logouts that return from one deadline after the sentinel names the new master are neither lost nor undone', async ({ expect }) => {
      const own = setups[1]!
      const { store } = storeOn(own)
      try {
        const signedIn = Array.from({ length: 600 }, () => ({ id: newSessionId(), state: newStateData() }))
        for (let start = 0; start < signedIn.length; start += 50) {
          await Promise.all(signedIn.slice(start, start + 50).map(({ id, state }) => store.set(id, state)))
        }
        const logins: Array<{ id: string, state: StateData, at: number }> = []
        const logouts: Array<{ id: string, at: number }> = []
        let running = true
        // One user after another signs in, and one of those signed in before signs out (or is signed out by the IdP).
        const load = (async () => {
          for (let turn = 0; running && turn < signedIn.length; turn++) {
            const login = { id: newSessionId(), state: newStateData() }
            if (await succeeded(store.set(login.id, login.state))) logins.push({ ...login, at: Date.now() })
            const { id, state } = signedIn[turn]!
            if (await succeeded(turn % 2 ? store.delete(id) : store.deleteByLogoutToken({ sid: state.internal.sid }))) logouts.push({ id, at: Date.now() })
            await sleep(20)
          }
        })()
        const started = Date.now()
        const { promotedMs } = await own.failover()
        await sleep(STORE_DEADLINE_MS)
        running = false
        await load
        const namedAt = started + promotedMs
        const afterFollowing = <Call extends { id: string, at: number }>(calls: Call[]) => calls.filter(({ at }) => at >= namedAt + STORE_DEADLINE_MS)
        const described = (calls: Array<{ id: string, at: number }>) => afterFollowing(calls).map(({ id, at }) => `${id}, ${at - namedAt} ms after the new master was named`)

        const stored = async ({ id }: { id: string }) => (await store.get(id)) !== undefined
        const lost = (await Promise.all(logins.map(async login => (await stored(login) ? [] : [login])))).flat()
        const undone = (await Promise.all(logouts.map(async logout => (await stored(logout) ? [logout] : [])))).flat()
        console.info(JSON.stringify({
          failover: 'redis-sentinel, calls during SENTINEL FAILOVER', promotedMs, logins: logins.length, logouts: logouts.length,
          lost: lost.length, undone: undone.length, lostAfterFollowing: afterFollowing(lost).length, undoneAfterFollowing: afterFollowing(undone).length,
        }))
        expect(afterFollowing(logins).length, 'logins after the store should have followed').toBeGreaterThan(10)
        expect(afterFollowing(logouts).length, 'logouts after the store should have followed').toBeGreaterThan(10)
        // Before that, Redis's replication is asynchronous, and Sentinel promotes without waiting: what it documents may be lost.
        expect({ lost: described(lost), undone: described(undone) }).toEqual({ lost: [], undone: [] })
      }
      finally {
        await store.close()
      }
    }, 40_000)

    it('a killed master: the store finds its promoted replica by itself, with every session; one ended before the kill stays ended', async ({ expect }) => {
      const own = setups[2]!
      const { store } = storeOn(own)
      try {
        const { kept, ended } = await sessionsBefore(store)

        const killedToPromotedMs = await own.killMaster()
        const fresh = { id: newSessionId(), state: newStateData() }
        const storeWroteAgainMs = await msUntilAnswered(() => store.set(fresh.id, fresh.state))
        console.info(JSON.stringify({ failover: 'redis-sentinel, master killed', killedToPromotedMs, storeWroteAgainAfterPromotionMs: storeWroteAgainMs }))

        for (const { id, state } of kept) expect(await store.get(id)).toEqual(state)
        expect(await store.get(fresh.id)).toEqual(fresh.state)
        for (const { id, state } of ended) {
          await store.set(id, state)
          expect(await store.get(id), `session ${id}, ended before the kill`).toBeUndefined()
        }
      }
      finally {
        await store.close()
      }
    }, 40_000)
  })
})
