// The session store contract (DESIGN.md), run by each test project against its backend's real server.
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { createSessionStore } from '~/server/utils/session-store-factory'
import type { EncryptedSessionStore } from '~/server/session-stores/encrypted-session-store'
import { rawBackend } from '../support/raw-backend'
import { issuedAt } from '../support/logout-token-options'
import { ISSUER, newPerson, newSessionId, newStateData } from '../support/state-data'

const storeName = process.env.SESSION_STORE!

function openStore(overrides: Record<string, string> = {}): EncryptedSessionStore {
  return createSessionStore({ ...process.env, ...overrides }) as EncryptedSessionStore
}

const store = openStore()
const raw = rawBackend()
afterAll(async () => {
  await store.close()
  await raw.close()
})

const now = () => Math.floor(Date.now() / 1000)

describe(`the ${storeName} session store`, () => {
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
      await store.delete(other)
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
      await store.delete(bobId)
    })

    it('deletes nothing when the claims do not all match: another user\'s sub, or another issuer', async () => {
      const person = newPerson()
      const sid = randomUUID()
      const id = newSessionId()
      await store.set(id, newStateData({ person, sid }))

      await store.deleteByLogoutToken({ sid, sub: newPerson().sub })
      await store.deleteByLogoutToken({ sid, iss: 'https://another-tenant.example.com/' })
      await store.deleteByLogoutToken({})
      expect(await store.get(id)).toBeDefined()

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

    it('a session deleted at the app (logout) is not brought back by a write still in flight', async () => {
      const id = newSessionId()
      const state = newStateData({ createdAt: now() - 60 })
      await store.set(id, state)

      await store.delete(id)
      await store.set(id, state)

      expect(await store.get(id)).toBeUndefined()
    })

    it('after "sign out everywhere" old sessions stay out, but the user can log in again', async () => {
      const person = newPerson()
      const old = newStateData({ person, createdAt: now() - 60 })
      const oldId = newSessionId()
      await store.set(oldId, old)

      await store.deleteByLogoutToken({ sub: person.sub })
      await store.set(oldId, old)
      const fresh = newSessionId()
      await store.set(fresh, newStateData({ person, createdAt: now() + 1 }))

      expect(await store.get(oldId)).toBeUndefined()
      expect(await store.get(fresh)).toBeDefined()
      await store.delete(fresh)
    })
  })

  describe('a logout token ends the sessions that existed when it was issued', () => {
    it('a replayed token leaves the sessions created after it alone', async () => {
      const person = newPerson()
      const older = newSessionId()
      const newer = newSessionId()
      await store.set(older, newStateData({ person, createdAt: now() - 120 }))
      await store.set(newer, newStateData({ person, createdAt: now() - 10 }))

      await store.deleteByLogoutToken({ sub: person.sub }, issuedAt(now() - 60))

      expect(await store.get(older)).toBeUndefined()
      expect(await store.get(newer)).toBeDefined()
      await store.deleteByLogoutToken({ sub: person.sub }, issuedAt(now()))
      expect(await store.get(newer)).toBeUndefined()
    })

    it('reads the guide\'s createdAt in milliseconds (Date.now()) as the seconds it means', async () => {
      const id = newSessionId()
      const state = newStateData({ createdAt: Date.now() - 60_000 })
      await store.set(id, state)
      expect(await store.get(id)).toEqual(state)

      await store.deleteByLogoutToken({ sid: state.internal.sid }, issuedAt(now() - 5))
      expect(await store.get(id)).toBeUndefined()
    })
  })

  describe('expiry, by the SDK\'s rule', () => {
    it('is handed to the backend natively: the inactivity duration from now, for a fresh rolling session', async () => {
      const id = newSessionId()
      await store.set(id, newStateData())

      const expiry = await raw.nativeExpiry(id)
      expect(expiry).toBeGreaterThanOrEqual(now() + 86_400 - 5)
      expect(expiry).toBeLessThanOrEqual(now() + 86_400 + 1)
      await store.delete(id)
    })

    it('is capped by the absolute duration since login', async () => {
      const id = newSessionId()
      await store.set(id, newStateData({ createdAt: now() - 259_200 + 600 }))

      const expiry = await raw.nativeExpiry(id)
      expect(expiry).toBeLessThanOrEqual(now() + 600)
      expect(expiry).toBeGreaterThan(now() + 590)
      await store.delete(id)
    })

    it('a session past its absolute duration is not stored at all', async () => {
      const id = newSessionId()
      await store.set(id, newStateData({ createdAt: now() - 259_200 - 1 }))

      expect(await store.get(id)).toBeUndefined()
      expect(await raw.nativeExpiry(id)).toBeUndefined()
    })

    it('is enforced on read, even before the backend purges the record', async () => {
      const shortLived = openStore({ NUXT_AUTH0_SESSION_CONFIGURATION_INACTIVITY_DURATION: '1' })
      const id = newSessionId()
      await shortLived.set(id, newStateData())
      expect(await shortLived.get(id)).toBeDefined()

      await sleep(2100)

      expect(await shortLived.get(id)).toBeUndefined()
      await shortLived.prune()
      await shortLived.close()
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
      await store.delete(id)
    })

    it('a payload is bound to its session id and to the secret', async () => {
      const id = newSessionId()
      const state = newStateData()
      await store.set(id, state)

      const otherSecret = openStore({ SESSION_STORE_SECRET: 'another-secret-that-is-32-characters-long' })
      expect(await otherSecret.get(id)).toBeUndefined()
      await otherSecret.close()
      await store.delete(id)
    })
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

    await Promise.all(sessions.map(async ({ id, state, fate }) => {
      const revocation = fate === 'revoked' ? store.deleteByLogoutToken({ sid: state.internal.sid }) : undefined
      await store.set(id, state)
      await store.get(id)
      await store.set(id, state)
      if (fate === 'deleted') await store.delete(id)
      await revocation
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
    await reopened.close()
  })
})
