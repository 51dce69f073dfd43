// The session store contract (DESIGN.md), as one function that each backend's test file calls with
// its real server and, where it can, a disposable server for fault tests. It reads what the backend
// really holds with tests/support/raw-backends.ts, and runs the seed's own tests through the factory.
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { StateData } from '@auth0/auth0-nuxt'
import { RateLimiterMemory } from 'rate-limiter-flexible'
import { backends, type BackendName } from '~/server/session-stores/backends'
import type { EncryptedSessionStore } from '~/server/session-stores/encrypted-session-store'
import { describeDevice } from '~/server/session-stores/device'
import { createSessionStore } from '~/server/utils/session-store-factory'
import type { DisposableServer } from '../support/disposable-servers'
import { issuedAt } from '../support/logout-token-options'
import { rawBackend } from '../support/raw-backends'
import { ISSUER, newPerson, newSessionId, newStateData } from '../support/state-data'
import { dropStoreData, newNamespace, staleNamespaces } from '../support/test-namespaces'
import { seedTests } from './seed-tests'

export interface BackendUnderTest {
  name: BackendName
  /** The backend's settings for a namespace of the test's own (key prefix, table, folder...): tests leave no data behind. */
  env(namespace: string): Record<string, string>
  /** The namespaces (as `env` takes them) that its server holds data of, from any run: a crashed run's are deleted. */
  namespacesHeld(): Promise<string[]>
  /** Settings that point at nothing: the backend cannot be reached, and the message must say so. */
  unreachable: { env: Record<string, string>, address: string }
  /** A disposable server and the settings pointing at it, for freeze and kill tests. */
  disposable?: { start(): Promise<DisposableServer>, env(server: DisposableServer): Record<string, string> }
  /** Why this backend cannot be tested here: the suite is then reported as skipped, loudly. */
  skip?: string
}

export const TEST_SECRET = 'a-test-only-secret-of-at-least-32-characters'
/** The fault tests' deadline, short so that they run fast; every other test has the production default, 1000 ms. */
const TIMEOUT_MS = 500
const FAULT_DEADLINE = { SESSION_STORE_TIMEOUT_MS: String(TIMEOUT_MS) }

const now = () => Math.floor(Date.now() / 1000)

async function errorOf(call: () => Promise<unknown>): Promise<unknown> {
  return call().then(() => undefined, (error: unknown) => error)
}

/** Runs `task` over `items`, `size` at a time: many writes without one burst deeper than a connection pool. */
async function inBatches<T>(items: T[], size: number, task: (item: T, index: number) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < items.length; start += size) {
    await Promise.all(items.slice(start, start + size).map((item, offset) => task(item, start + offset)))
  }
}

/**
 * Whether `call` settles before a timer of `ms`, started now, fires. A call's deadline is a timer on
 * the same event loop, which runs timers in the order they fall due: a loaded machine delays both
 * alike, so unlike a stopwatch the answer does not depend on load.
 */
async function settlesBefore(ms: number, call: Promise<unknown>): Promise<boolean> {
  return Promise.race([call.then(() => true, () => true), sleep(ms).then(() => false)])
}

/**
 * Expects `expiry` to be `expiresAt` as the backend counts it. Redis takes a TTL in whole seconds and
 * counts it from when it runs the write: up to a second later, plus however long the write took. So the
 * bounds come from the clock read before and after (`from`, `to`), never a fixed margin: a loaded
 * machine may pause anywhere in between.
 */
function expectExpiry(expiry: number | undefined, expiresAt: number, { from, to }: { from: number, to: number }): void {
  expect(expiry).toBeGreaterThanOrEqual(expiresAt)
  expect(expiry).toBeLessThanOrEqual(expiresAt + (to - from) + 1)
}

/** Calls `call` every 50 ms until it resolves, for at most `giveUpMs`. */
async function untilAnswered(call: () => Promise<unknown>, giveUpMs = 10_000): Promise<void> {
  const started = Date.now()
  while (Date.now() - started < giveUpMs) {
    if (await call().then(() => true, () => false)) return
    await sleep(50)
  }
  throw new Error(`still failing after ${giveUpMs} ms`)
}

export function testSessionStore(backend: BackendUnderTest): void {
  if (backend.skip) {
    console.warn(`\n  ⚠  SKIPPED: the ${backend.name} session store was NOT tested: ${backend.skip}\n`)
    it.skip(`${backend.name} session store contract: ${backend.skip}`, () => {})
    return
  }
  const settingsFor = (namespace: string) => ({
    SESSION_STORE: backend.name, SESSION_STORE_SECRET: TEST_SECRET, ...backend.env(namespace),
  })
  const namespaces = [newNamespace()]
  const env = settingsFor(namespaces[0]!)
  // The seed's tests use the factory's process-wide store, as an app does.
  Object.assign(process.env, env)

  const opened: EncryptedSessionStore[] = []
  function openStore(overrides: Record<string, string> = {}, request?: { userAgent: () => string }): EncryptedSessionStore {
    const store = createSessionStore({ ...env, ...overrides }, request) as EncryptedSessionStore
    opened.push(store)
    return store
  }

  const store = openStore()
  const raw = rawBackend(env)
  beforeAll(async () => {
    // The first call creates tables or indexes: on a loaded machine, more than one deadline.
    await untilAnswered(() => store.ping(), 20_000)
    for (const namespace of staleNamespaces(await backend.namespacesHeld())) await dropStoreData(settingsFor(namespace))
  }, 30_000)
  afterAll(async () => {
    await raw.close()
    await Promise.allSettled(opened.map(each => each.close()))
    for (const namespace of namespaces) await dropStoreData(settingsFor(namespace))
  })

  describe(`the ${backend.name} session store`, () => {
    seedTests()

    it('hands back exactly what the SDK stored, and nothing for an id it never saw', async () => {
      const id = newSessionId()
      const state = newStateData()
      await store.set(id, state)

      expect(await store.get(id)).toEqual(state)
      expect(await store.get(newSessionId())).toBeUndefined()
      await store.delete(id)
    })

    it('keeps the latest write of a session, and forgets it once deleted', async () => {
      const id = newSessionId()
      const person = newPerson()
      await store.set(id, newStateData({ person }))
      const refreshed = newStateData({ person })
      await store.set(id, refreshed)
      expect(await store.get(id)).toEqual(refreshed)

      await store.delete(id)
      expect(await store.get(id)).toBeUndefined()
      await expect(store.delete(id)).resolves.toBeUndefined()
    })

    describe('back-channel logout', () => {
      it('by sid ends every session of that IdP session and no other, though the store key is not the sid', async () => {
        const person = newPerson()
        const sid = randomUUID()
        const [first, second, other] = [newSessionId(), newSessionId(), newSessionId()]
        await store.set(first, newStateData({ person, sid }))
        await store.set(second, newStateData({ person, sid }))
        await store.set(other, newStateData({ person }))

        await store.deleteByLogoutToken({ sid })

        expect(await store.get(first)).toBeUndefined()
        expect(await store.get(second)).toBeUndefined()
        expect(await store.get(other)).toBeDefined()
      })

      it('by sid also finds a session whose id token carries a newer sid than the SDK\'s internal one', async () => {
        const id = newSessionId()
        const idTokenSid = randomUUID()
        await store.set(id, newStateData({ sid: randomUUID(), idTokenSid }))

        await store.deleteByLogoutToken({ sid: idTokenSid })

        expect(await store.get(id)).toBeUndefined()
      })

      it('by sub alone ends all of that user\'s sessions, and no one else\'s', async () => {
        const [alice, bob] = [newPerson(), newPerson()]
        const aliceIds = [newSessionId(), newSessionId(), newSessionId()]
        const bobId = newSessionId()
        for (const id of aliceIds) await store.set(id, newStateData({ person: alice }))
        await store.set(bobId, newStateData({ person: bob }))

        await store.deleteByLogoutToken({ sub: alice.sub })

        for (const id of aliceIds) expect(await store.get(id)).toBeUndefined()
        expect(await store.get(bobId)).toBeDefined()
      })

      it('ends nothing when the claims do not all match, and the session\'s later writes are kept', async () => {
        const person = newPerson()
        const sid = randomUUID()
        const id = newSessionId()
        const state = newStateData({ person, sid })
        await store.set(id, state)

        await store.deleteByLogoutToken({ sid, sub: newPerson().sub })
        await store.deleteByLogoutToken({ sid, iss: 'https://another-tenant.example.com/' })
        await store.deleteByLogoutToken({ sub: person.sub, iss: 'https://another-tenant.example.com/' })
        await store.deleteByLogoutToken({})
        // A refresh after the mismatched tokens: the session lives on.
        await store.set(id, state)
        expect(await store.get(id)).toEqual(state)

        await store.deleteByLogoutToken({ sid, sub: person.sub, iss: ISSUER })
        expect(await store.get(id)).toBeUndefined()
      })
    })

    describe('no resurrection', () => {
      it('a write still in flight when its sid was revoked does not bring the session back', async () => {
        const id = newSessionId()
        const state = newStateData({ createdAt: now() - 60 })
        await store.set(id, state)

        await store.deleteByLogoutToken({ sid: state.internal.sid })
        await store.set(id, state)

        expect(await store.get(id)).toBeUndefined()
      })

      it('a deleted id stays refused whatever the writer\'s clock says', async () => {
        const id = newSessionId()
        await store.set(id, newStateData())
        await store.delete(id)

        // An app server whose clock runs 3 s (or an hour) ahead writes the session back.
        for (const skew of [3, 3600]) await store.set(id, newStateData({ createdAt: now() + skew }))

        expect(await store.get(id)).toBeUndefined()
      })

      it('after "sign out everywhere" old sessions stay out, and a login in the same second is kept', async () => {
        const person = newPerson()
        const second = now()
        const old = newStateData({ person, createdAt: second })
        const oldId = newSessionId()
        await store.set(oldId, old)

        await store.deleteByLogoutToken({ sub: person.sub })
        await store.set(oldId, old)
        // The SDK's createdAt has whole seconds: the new login may carry the very same one.
        const fresh = newSessionId()
        const freshState = newStateData({ person, createdAt: second })
        await store.set(fresh, freshState)

        expect(await store.get(oldId)).toBeUndefined()
        expect(await store.get(fresh)).toEqual(freshState)
      })

      it('20 logins completed right after "sign out everywhere" are all kept', async () => {
        const person = newPerson()
        await store.set(newSessionId(), newStateData({ person }))
        await store.deleteByLogoutToken({ sub: person.sub })

        const ids = Array.from({ length: 20 }, () => newSessionId())
        await Promise.all(ids.map(id => store.set(id, newStateData({ person }))))

        const kept = await Promise.all(ids.map(id => store.get(id)))
        expect(kept.filter(Boolean)).toHaveLength(20)
      })
    })

    describe('a logout token ends the sessions that existed when it was issued', () => {
      it('a replayed token leaves the sessions created after it alone', async () => {
        const person = newPerson()
        const id = newSessionId()
        await store.set(id, newStateData({ person }))

        // Issued a minute ago (beyond the 5 s of allowed clock skew): it did not mean this session.
        await store.deleteByLogoutToken({ sub: person.sub }, issuedAt(now() - 60))
        expect(await store.get(id)).toBeDefined()

        await store.deleteByLogoutToken({ sub: person.sub }, issuedAt(now()))
        expect(await store.get(id)).toBeUndefined()
      })

      it('reads the guide\'s createdAt in milliseconds (Date.now()) as the seconds it means', async () => {
        const id = newSessionId()
        const state = newStateData({ createdAt: Date.now() - 60_000 })
        await store.set(id, state)
        expect(await store.get(id)).toEqual(state)
        expect(await raw.nativeExpiry(id)).toBeGreaterThan(now() + 86_000)

        await store.deleteByLogoutToken({ sid: state.internal.sid }, issuedAt(now()))
        expect(await store.get(id)).toBeUndefined()
      })
    })

    describe('expiry, by the SDK\'s rule', () => {
      it('is handed to the backend natively: the inactivity duration from now, for a fresh rolling session', async () => {
        const id = newSessionId()
        const from = now()
        await store.set(id, newStateData())
        const expiry = await raw.nativeExpiry(id)

        // The store read its clock at some second from `from` on.
        expectExpiry(expiry, from + 86_400, { from, to: now() })
      })

      it('is capped by the absolute duration since login', async () => {
        const id = newSessionId()
        const from = now()
        const createdAt = from - 259_200 + 600
        await store.set(id, newStateData({ createdAt }))

        expectExpiry(await raw.nativeExpiry(id), createdAt + 259_200, { from, to: now() })
      })

      it('a session past its absolute duration is not stored at all', async () => {
        const id = newSessionId()
        await store.set(id, newStateData({ createdAt: now() - 259_200 - 1 }))

        expect(await store.get(id)).toBeUndefined()
        expect(await raw.nativeExpiry(id)).toBeUndefined()
      })

      it('is enforced on read, even before the backend purges the record (a controlled clock)', async () => {
        const id = newSessionId()
        await store.set(id, newStateData())
        vi.useFakeTimers({ toFake: ['Date'] })
        try {
          vi.setSystemTime(Date.now() + 86_400_000 + 1000)
          expect(await store.get(id)).toBeUndefined()
        }
        finally {
          vi.useRealTimers()
        }
        expect(await raw.nativeExpiry(id)).toBeDefined()
      })
    })

    describe('at rest', () => {
      it('a dump of the backend holds no token, e-mail, sub or sid', async () => {
        const person = newPerson()
        const state = newStateData({ person })
        const id = newSessionId()
        await store.set(id, state)
        await store.deleteByLogoutToken({ sid: randomUUID(), sub: person.sub })

        const dump = await raw.dump()

        expect(dump).toContain(id)
        const secrets = [state.idToken!, state.refreshToken!, ...state.tokenSets.map(set => set.accessToken), person.email, person.sub, state.internal.sid]
        for (const secret of secrets) expect(dump).not.toContain(secret)
        expect(dump).not.toContain(person.sub.split('|')[1])
      })

      it('the device a session records is sealed with it: listed for its user, absent from a dump', async () => {
        const person = newPerson()
        const id = newSessionId()
        const device = describeDevice('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Vivaldi/7.0.3495.6 Chrome/131.0.0.0 Safari/537.36')
        await store.set(id, { ...newStateData({ person }), device } as StateData)

        expect((await store.sessionsOf(person.sub)).map(summary => summary.device)).toEqual([device])
        const dump = await raw.dump()
        expect(dump).toContain(id)
        for (const fact of [device.label, 'Vivaldi', 'Linux']) expect(dump).not.toContain(fact)
      })

      it('a session written while serving a request records its device and a "signed in" event, both sealed', async () => {
        const serving = openStore({}, { userAgent: () => 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0' })
        const person = newPerson()
        const id = newSessionId()
        await serving.set(id, newStateData({ person }))

        expect((await serving.sessionsOf(person.sub))[0]!.device?.label).toBe('Firefox 133 on Windows (computer)')
        expect(await serving.activityOf(person.sub)).toEqual([expect.objectContaining({ type: 'signed-in', device: 'Firefox 133 on Windows (computer)' })])
        expect(await raw.dump()).not.toContain('Firefox')

        // Signing in again: the SDK carries the earlier state (its device too) into a new id; the new
        // session gets this request's device, and the log a second sign-in. A refresh of it (same id) adds nothing.
        const phone = openStore({}, { userAgent: () => 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1' })
        const again = newSessionId()
        await phone.set(again, (await serving.get(id))!)
        await phone.set(again, (await phone.get(again))!)
        expect((await phone.sessionsOf(person.sub)).find(summary => summary.id === again)?.device?.label).toBe('Safari 18 on iOS (phone)')
        expect((await phone.activityOf(person.sub)).map(event => event.device)).toEqual(['Safari 18 on iOS (phone)', 'Firefox 133 on Windows (computer)'])
      })

      it('"last active" is written at most once every few minutes per app server, and listed with the session', async () => {
        const serving = openStore({}, { userAgent: () => 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 Safari/537.36' })
        const person = newPerson()
        const id = newSessionId()
        const start = Date.now()
        vi.useFakeTimers({ toFake: ['Date'], now: start })
        try {
          await serving.set(id, newStateData({ person }))
          const lastActive = async () => (await serving.sessionsOf(person.sub, undefined, { lastActive: true }))[0]!.lastActiveAt
          const startSeconds = Math.floor(start / 1000)
          vi.setSystemTime(start + 10_000)
          await serving.get(id)
          await vi.waitFor(async () => expect(await lastActive()).toBe(startSeconds + 10), { timeout: 5000 })
          vi.setSystemTime(start + 200_000)
          await serving.get(id)
          await sleep(200)
          expect(await lastActive()).toBe(startSeconds + 10)
          vi.setSystemTime(start + 320_000)
          await serving.get(id)
          await vi.waitFor(async () => expect(await lastActive()).toBe(startSeconds + 320), { timeout: 5000 })
        }
        finally {
          vi.useRealTimers()
        }
      })

      it('a payload is bound to its session id and to the secret', async () => {
        const id = newSessionId()
        await store.set(id, newStateData())

        const otherSecret = openStore({ SESSION_STORE_SECRET: 'another-secret-that-is-32-characters-long' })
        expect(await otherSecret.get(id)).toBeUndefined()
      })
    })

    describe('bad input is a programming error: named, refused before any backend work, nothing written', () => {
      const badWrites: Array<[string, () => [string, unknown], RegExp]> = [
        ['an empty id', () => ['', newStateData()], /session id must be 1 to 128/],
        ['a 10 KB id', () => ['x'.repeat(10_000), newStateData()], /a string of 10000 characters/],
        ['an id with NUL', () => ['bad\0id', newStateData()], /session id/],
        ['an id that is a path', () => ['../../etc/passwd', newStateData()], /session id/],
        ['createdAt = NaN', () => [newSessionId(), { ...newStateData(), internal: { sid: 's', createdAt: Number.NaN } }], /createdAt must be a positive number of seconds; got NaN/],
        ['no internal', () => [newSessionId(), { user: { sub: 'x' } }], /StateData.internal must be an object/],
        ['a circular StateData', () => {
          const state = newStateData() as StateData & { self?: unknown }
          state.self = state
          return [newSessionId(), state]
        }, /cannot be stored as JSON/],
      ]
      for (const [what, input, message] of badWrites) {
        it(`set() with ${what}`, async () => {
          const [id, state] = input()
          const error = await errorOf(() => store.set(id, state as StateData))
          expect(error).toMatchObject({ name: 'SessionInputError', message: expect.stringMatching(message) })
          expect((error as Error).message).not.toContain('docker compose')
          if (id) expect(await raw.dump()).not.toContain(id.slice(0, 64))
        })
      }

      it('get() and delete() with an id that cannot be one', async () => {
        for (const call of [() => store.get('x'.repeat(10_000)), () => store.delete('a\0b')]) {
          expect(await errorOf(call)).toMatchObject({ name: 'SessionInputError' })
        }
      })

      it('a bad write first into a fresh namespace breaks no later sign-in', async () => {
        const namespace = newNamespace()
        namespaces.push(namespace)
        const fresh = openStore(settingsFor(namespace))
        await errorOf(() => fresh.set('', newStateData()))
        const id = newSessionId()
        const state = newStateData()
        await fresh.set(id, state)
        expect(await fresh.get(id)).toEqual(state)
      })
    })

    describe('bounded per user', () => {
      it('a new session beyond the cap ends the oldest, which no refresh brings back', async () => {
        const capped = openStore({ SESSION_STORE_MAX_SESSIONS_PER_USER: '3' })
        const person = newPerson()
        const ids = Array.from({ length: 5 }, () => newSessionId())
        const states = ids.map(() => newStateData({ person }))
        for (const [index, id] of ids.entries()) {
          await capped.set(id, states[index]!)
          await sleep(2) // one login per millisecond at most, so "oldest" is well defined
        }

        const live = await Promise.all(ids.map(id => capped.get(id)))
        expect(live.map(Boolean)).toEqual([false, false, true, true, true])
        await capped.set(ids[0]!, states[0]!)
        expect(await capped.get(ids[0]!)).toBeUndefined()
        expect((await capped.sessionsOf(person.sub)).map(session => session.id).sort()).toEqual(ids.slice(2).sort())
      })

      it('lists every live session of a user who holds many, up to the cap, newest first', async () => {
        const roomy = openStore({ SESSION_STORE_MAX_SESSIONS_PER_USER: '150' })
        const person = newPerson()
        const ids = Array.from({ length: 120 }, () => newSessionId())
        // Newest first by the SDK's createdAt, which differs for each: the order of the writes does not matter.
        await inBatches(ids, 10, (id, i) => roomy.set(id, newStateData({ person, createdAt: now() - 1000 + i })))

        const listed = await roomy.sessionsOf(person.sub)

        expect(listed.map(session => session.id)).toEqual([...ids].reverse())
      })

      it('"sign out everywhere" ends every session of a user who holds many', async () => {
        const person = newPerson()
        const ids = Array.from({ length: 60 }, () => newSessionId())
        const roomy = openStore({ SESSION_STORE_MAX_SESSIONS_PER_USER: '100' })
        await inBatches(ids, 10, id => roomy.set(id, newStateData({ person })))
        // A store with a smaller cap walks them in batches.
        const batched = openStore({ SESSION_STORE_MAX_SESSIONS_PER_USER: '7' })

        await batched.deleteByLogoutToken({ sub: person.sub })

        expect((await Promise.all(ids.map(id => roomy.get(id)))).filter(Boolean)).toHaveLength(0)
      })
    })

    describe('a logout token is accepted once', () => {
      it('its jti is new once, then a replay on any app server, and another issuer\'s same jti is new', async () => {
        const [serverA, serverB] = [openStore(), openStore()]
        const jti = randomUUID()
        const exp = now() + 120

        expect(await serverA.firstUseOfLogoutToken(ISSUER, jti, exp)).toBe(true)
        expect(await serverB.firstUseOfLogoutToken(ISSUER, jti, exp)).toBe(false)
        expect(await serverA.firstUseOfLogoutToken(ISSUER, jti, exp)).toBe(false)
        expect(await serverB.firstUseOfLogoutToken('https://another-tenant.example.com/', jti, exp)).toBe(true)
      })

      it('of twenty deliveries at the same moment, exactly one is accepted', async () => {
        const jti = randomUUID()
        const firsts = await Promise.all(Array.from({ length: 20 }, () => store.firstUseOfLogoutToken(ISSUER, jti, now() + 60)))
        expect(firsts.filter(Boolean)).toHaveLength(1)
      })

      it('keeps no jti in clear', async () => {
        const jti = `jti-${randomUUID()}`
        await store.firstUseOfLogoutToken(ISSUER, jti, now() + 60)
        expect(await raw.dump()).not.toContain(jti)
      })
    })

    it('rate limits count in the store: another app server sees the same count', async () => {
      const limit = { keyPrefix: `test-${randomUUID()}`, points: 3, duration: 60, insuranceLimiter: new RateLimiterMemory({ points: 3, duration: 60 }) }
      const [serverA, serverB] = [openStore().rateLimiter(limit), openStore().rateLimiter(limit)]
      await serverA.consume('198.51.100.7')
      await serverB.consume('198.51.100.7')
      await serverA.consume('198.51.100.7')

      await expect(serverB.consume('198.51.100.7')).rejects.toMatchObject({ remainingPoints: 0, msBeforeNext: expect.any(Number) })
      await expect(serverB.consume('198.51.100.8')).resolves.toMatchObject({ remainingPoints: 2 })
    })

    it('lists a user\'s live sessions, newest first, without tokens', async () => {
      const person = newPerson()
      const [older, newer] = [newSessionId(), newSessionId()]
      await store.set(older, newStateData({ person, createdAt: now() - 100 }))
      const newest = newStateData({ person })
      await store.set(newer, newest)

      const sessions = await store.sessionsOf(person.sub, newest.idToken)

      expect(sessions.map(session => session.id)).toEqual([newer, older])
      expect(sessions[0]).toMatchObject({ sid: newest.internal.sid, createdAt: newest.internal.createdAt, current: true })
      expect(sessions[1]).toMatchObject({ current: false })
      expect(JSON.stringify(sessions)).not.toContain(newest.idToken)
      await store.deleteByLogoutToken({ sub: person.sub })
      expect(await store.sessionsOf(person.sub)).toEqual([])
    })

    it('stays consistent under hundreds of concurrent set, get, delete and logout calls', async () => {
      const people = Array.from({ length: 10 }, () => newPerson())
      const sessions = Array.from({ length: 200 }, (_, i) => ({
        id: newSessionId(),
        state: newStateData({ person: people[i % people.length], createdAt: now() - 10 }),
        fate: (['kept', 'deleted', 'revoked'] as const)[i % 3],
      }))

      // Each session is signed in first; then refreshes race with logouts, as in production.
      await Promise.all(sessions.map(({ id, state }) => store.set(id, state)))
      await Promise.all(sessions.map(async ({ id, state, fate }) => {
        const logout = fate === 'revoked' ? store.deleteByLogoutToken({ sid: state.internal.sid }) : fate === 'deleted' ? store.delete(id) : undefined
        await store.get(id)
        await store.set(id, state)
        await logout
        await store.set(id, state)
      }))

      for (const { id, state, fate } of sessions) {
        const stored = await store.get(id)
        if (fate === 'kept') expect(stored).toEqual(state)
        else expect(stored, `${fate} session ${id}`).toBeUndefined()
      }
      for (const person of people) {
        const listed = (await store.sessionsOf(person.sub)).map(session => session.id).sort()
        const kept = sessions.filter(s => s.fate === 'kept' && s.state.user!.sub === person.sub).map(s => s.id).sort()
        expect(listed).toEqual(kept)
      }
      await Promise.all(people.map(person => store.deleteByLogoutToken({ sub: person.sub })))
      for (const { id } of sessions) expect(await store.get(id)).toBeUndefined()
    })

    it('answers ping, and can be closed and opened again', async () => {
      const another = openStore()
      await expect(another.ping()).resolves.toBeUndefined()
      await another.close()
      const reopened = openStore()
      await expect(reopened.ping()).resolves.toBeUndefined()
    })

    describe('when its server cannot be reached', () => {
      it('refuses with a 503 error naming the store, the address without its password, and what to do', async () => {
        const down = openStore({ ...backend.unreachable.env, ...FAULT_DEADLINE })
        for (const call of [() => down.set(newSessionId(), newStateData()), () => down.get(newSessionId()), () => down.ping()]) {
          const error = await errorOf(call)
          expect(error).toMatchObject({ name: 'SessionStoreUnavailableError', statusCode: 503 })
          const message = (error as Error).message
          expect(message).toContain(`The ${backend.name} session store at`)
          expect(message).toContain(backend.unreachable.address)
          expect(message).toContain(backends[backend.name].startHint)
          expect(message).not.toContain('hunter2')
        }
      })

      it('fails fast while it is known to be down: no call waits for the backend (a controlled clock)', async () => {
        const down = openStore({ ...backend.unreachable.env, ...FAULT_DEADLINE })
        // The clock stands still, so the next probe of the backend never falls due, however slow the machine.
        vi.useFakeTimers({ toFake: ['Date'] })
        try {
          await errorOf(() => down.ping())
          for (let i = 0; i < 20; i++) {
            expect(await errorOf(() => down.get(newSessionId())))
              .toMatchObject({ statusCode: 503, message: expect.stringContaining('unavailable since an earlier call') })
          }
        }
        finally {
          vi.useRealTimers()
        }
      })
    })

    const disposable = backend.disposable
    describe.skipIf(!disposable)('faults of its own server (a disposable one)', () => {
      let server: DisposableServer
      let faulty: EncryptedSessionStore
      beforeAll(async () => {
        server = await disposable!.start()
        faulty = openStore({ ...disposable!.env(server), ...FAULT_DEADLINE })
        // The first call creates tables or connects; on a loaded machine that may take more than one deadline.
        await untilAnswered(() => faulty.ping(), 20_000)
      }, 30_000)
      afterAll(async () => {
        await faulty?.close()
        await server?.close()
      })

      it('frozen (SIGSTOP): every call fails within its deadline with a 503, and calls work again by themselves after the thaw', async () => {
        const id = newSessionId()
        const state = newStateData()
        await faulty.set(id, state)
        server.freeze()
        try {
          const calls = Promise.all([
            errorOf(() => faulty.get(id)), errorOf(() => faulty.set(newSessionId(), newStateData())), errorOf(() => faulty.ping()),
          ])
          expect(await settlesBefore(TIMEOUT_MS * 2, calls)).toBe(true)
          for (const error of await calls) expect(error).toMatchObject({ name: 'SessionStoreUnavailableError', statusCode: 503 })
        }
        finally {
          server.thaw()
        }
        // By itself, through the guard's probes (timed in tests/unit/backend-guard.test.ts); how soon
        // depends on the thawed server getting CPU, which a loaded machine may not give at once.
        await untilAnswered(() => faulty.get(id))
        expect(await faulty.get(id)).toEqual(state)
      })

      it('killed: calls fail fast with a 503; once it is back, calls work again by themselves', async () => {
        const id = newSessionId()
        await faulty.set(id, newStateData())
        await server.kill()
        try {
          expect(await errorOf(() => faulty.get(id))).toMatchObject({ name: 'SessionStoreUnavailableError' })
          const ping = errorOf(() => faulty.ping())
          expect(await settlesBefore(TIMEOUT_MS * 2, ping)).toBe(true)
          expect(await ping).toMatchObject({ statusCode: 503 })
        }
        finally {
          await server.start()
        }
        await untilAnswered(() => faulty.ping())
      })
    })
  })
}
