import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StatefulStateStore, StatelessStateStore, type SessionStore, type StateData } from '@auth0/auth0-server-js'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CookieJar, jarCookieHandler } from '~/server/session-stores/cookie-jar'
import type { EncryptedSessionStore } from '~/server/session-stores/encrypted-session-store'
import { EnvReader } from '~/server/session-stores/session-store-config'
import { readMigrationSetting, SESSION_COOKIE, StatelessSessionMigration } from '~/server/session-stores/stateless-session-migration'
import { createSessionStore } from '~/server/utils/session-store-factory'
import { newNamespace } from '../support/test-namespaces'
import { newPerson, newStateData } from '../support/state-data'

const SESSION_SECRET = 'unit-test-app-session-secret-of-at-least-32-characters'
const STORE_SECRET = 'unit-test-session-store-secret-of-at-least-32-characters'
const DURATIONS = { absoluteDuration: 259_200, inactivityDuration: 86_400, rolling: true }
const now = () => Math.floor(Date.now() / 1000)

/** The chunked cookies the SDK sets in stateless mode (SESSION_STORE=cookie) for this session. */
async function statelessCookie(state: StateData, secret = SESSION_SECRET): Promise<Record<string, string>> {
  const jar = new CookieJar({})
  await new StatelessStateStore({ ...DURATIONS, secret }, jarCookieHandler).set(SESSION_COOKIE, state, false, jar)
  return jar.all()
}

/** A session big enough to need several chunks, as one with a few access tokens does. */
function bigSession(options: Parameters<typeof newStateData>[0] = {}): StateData {
  return { ...newStateData(options), connectionTokenSets: [{ connection: 'google', accessToken: 'x'.repeat(2000), expiresAt: now() + 3600 }] } as StateData
}

describe('a browser that still has the SDK\'s stateless cookie when the app switches to a store', () => {
  const folder = join(tmpdir(), `auth0-migration-test-${newNamespace()}`)
  let store: EncryptedSessionStore
  let migration: StatelessSessionMigration

  beforeEach(() => {
    store = createSessionStore({ SESSION_STORE: 'embedded', SESSION_STORE_SECRET: STORE_SECRET, EMBEDDED_STORE_DIR: folder }) as EncryptedSessionStore
    migration = new StatelessSessionMigration(store, { sessionSecret: SESSION_SECRET, sessionConfiguration: DURATIONS })
    vi.spyOn(console, 'info').mockImplementation(() => {})
  })
  afterEach(async () => {
    vi.useRealTimers()
    vi.restoreAllMocks()
    await store.close()
    await rm(folder, { recursive: true, force: true })
  })

  /** One request carrying `cookies`: what became of them, and the jar holding what it sends and what the SDK then sees. */
  async function request(cookies: Record<string, string>) {
    const jar = new CookieJar(cookies)
    return { outcome: await migration.migrate(jar), jar }
  }

  /** The session the jar's stateful cookie opens, read by the SDK's own StatefulStateStore. */
  function sessionOf(jar: CookieJar): Promise<StateData | undefined> {
    const sdkStore: SessionStore<CookieJar> = {
      get: id => store.get(id),
      set: (id, state) => store.set(id, state),
      delete: id => store.delete(id),
      deleteByLogoutToken: claims => store.deleteByLogoutToken(claims),
    }
    return new StatefulStateStore({ ...DURATIONS, secret: SESSION_SECRET, store: sdkStore }, jarCookieHandler).get(SESSION_COOKIE, jar)
  }

  const sentCookie = (jar: CookieJar, name: string) => jar.changes.find(change => change.name === name)

  it('is moved into the store on its next request: the same session and creation time, a small cookie, the chunks deleted', async () => {
    const state = bigSession({ createdAt: now() - 3600 })
    const cookies = await statelessCookie(state)
    expect(Object.keys(cookies)).toEqual(expect.arrayContaining([`${SESSION_COOKIE}.0`, `${SESSION_COOKIE}.1`]))

    const { outcome, jar } = await request({ ...cookies, theme: 'dark' })

    expect(outcome).toBe('migrated')
    // What the SDK sees on this same request: the stateful cookie, opening to the session as it was.
    expect(Object.keys(jar.all()).sort()).toEqual([SESSION_COOKIE, 'theme'])
    expect(await sessionOf(jar)).toEqual(state)
    // The browser: chunks deleted with the SDK's options, a stateful cookie that lives no longer than the session may.
    for (const name of Object.keys(cookies)) {
      expect(sentCookie(jar, name)).toEqual({ name, value: '', options: expect.objectContaining({ maxAge: 0, path: '/', httpOnly: true, secure: true }) })
    }
    const stateful = sentCookie(jar, SESSION_COOKIE)!
    expect(stateful.value.length).toBeLessThan(400)
    expect(stateful.options).toMatchObject({ httpOnly: true, sameSite: 'lax', path: '/', secure: true })
    expect(stateful.options.maxAge).toBeGreaterThan(86_000)
    expect(stateful.options.maxAge).toBeLessThanOrEqual(86_400)
    expect(sentCookie(jar, 'theme')).toBeUndefined()
  })

  it('keeps the absolute cap: a session near its end is not extended', async () => {
    const createdAt = now() - DURATIONS.absoluteDuration + 600
    const { jar } = await request(await statelessCookie(bigSession({ createdAt })))

    expect((await sessionOf(jar))!.internal.createdAt).toBe(createdAt)
    expect(sentCookie(jar, SESSION_COOKIE)!.options.maxAge).toBeLessThanOrEqual(600)
    const [summary] = await store.sessionsOf((await sessionOf(jar))!.user!.sub)
    expect(summary!.expiresAt).toBeLessThanOrEqual(createdAt + DURATIONS.absoluteDuration)
  })

  it('is indexed at once: a back-channel logout of its sid, or of its user, ends it', async () => {
    const person = newPerson()
    const bySid = newStateData({ person })
    const byUser = newStateData({ person })
    const first = await request(await statelessCookie(bySid))
    const second = await request(await statelessCookie(byUser))
    expect([first.outcome, second.outcome]).toEqual(['migrated', 'migrated'])

    await store.deleteByLogoutToken({ sid: bySid.internal.sid })
    expect(await sessionOf(first.jar)).toBeUndefined()
    expect(await sessionOf(second.jar)).toBeDefined()
    await store.deleteByLogoutToken({ sub: person.sub })
    expect(await sessionOf(second.jar)).toBeUndefined()
  })

  it('is moved once: the same cookie always names the same session, and another browser\'s cookie another one', async () => {
    const person = newPerson()
    const cookies = await statelessCookie(newStateData({ person }))
    const first = await request(cookies)
    // A request that left before the first one's answer arrived still carries the chunks.
    const late = await request(cookies)
    const otherBrowser = await request(await statelessCookie(newStateData({ person })))

    expect([first.outcome, late.outcome, otherBrowser.outcome]).toEqual(['migrated', 'already_migrated', 'migrated'])
    expect((await sessionOf(late.jar))).toEqual(await sessionOf(first.jar))
    expect(await store.sessionsOf(person.sub)).toHaveLength(2)
  })

  it('two tabs sending it at the same moment leave one session, and both stay signed in', async () => {
    const state = bigSession()
    const cookies = await statelessCookie(state)

    const tabs = await Promise.all([request(cookies), request(cookies), request(cookies)])

    expect(tabs.map(tab => tab.outcome).sort()).toEqual(['already_migrated', 'already_migrated', 'migrated'])
    for (const tab of tabs) expect(await sessionOf(tab.jar)).toEqual(state)
    expect(await store.sessionsOf(state.user!.sub)).toHaveLength(1)
    expect(vi.mocked(console.info).mock.calls.filter(([line]) => String(line).startsWith('[session-migration]'))).toHaveLength(1)
  })

  it('after its session ended, the old cookie brings nothing back: not at once, nor once the ended id is forgotten (10 min)', async () => {
    const state = newStateData()
    const cookies = await statelessCookie(state)
    const { jar } = await request(cookies)
    await store.deleteByLogoutToken({ sid: state.internal.sid })

    const replayed = await request(cookies)
    expect(replayed.outcome).toBe('ended')
    expect(Object.keys(replayed.jar.all())).toEqual([])
    expect(sentCookie(replayed.jar, SESSION_COOKIE)).toBeUndefined()

    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 11 * 60_000)
    expect((await request(cookies)).outcome).toBe('ended')
    expect(await sessionOf(jar)).toBeUndefined()
    expect(await store.sessionsOf(state.user!.sub)).toEqual([])
  })

  it('an expired cookie is dropped and nothing is stored: past its inactivity limit, or past the absolute cap', async () => {
    const inactive = newStateData()
    const inactiveCookie = await statelessCookie(inactive)
    // Its absolute cap has passed, though the cookie itself still opens (the SDK allows 15 s of clock skew).
    const capped = newStateData({ createdAt: now() - DURATIONS.absoluteDuration - 5 })
    const cappedRequest = await request(await statelessCookie(capped))

    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + (DURATIONS.inactivityDuration + 60) * 1000)
    const inactiveRequest = await request(inactiveCookie)

    for (const { outcome, jar } of [cappedRequest, inactiveRequest]) {
      expect(outcome).toBe('expired')
      expect(jar.all()).toEqual({})
      expect(jar.changes.every(change => change.options.maxAge === 0)).toBe(true)
    }
    expect(await store.sessionsOf(inactive.user!.sub)).toEqual([])
    expect(await store.sessionsOf(capped.user!.sub)).toEqual([])
  })

  it('a tampered, truncated or foreign cookie (another secret) is dropped as unreadable, never an error', async () => {
    const cookies = await statelessCookie(bigSession())
    const chunk0 = cookies[`${SESSION_COOKIE}.0`]!
    const tampered = { ...cookies, [`${SESSION_COOKIE}.0`]: `${chunk0.slice(0, 200)}${chunk0[200] === 'A' ? 'B' : 'A'}${chunk0.slice(201)}` }
    const truncated = { [`${SESSION_COOKIE}.0`]: chunk0 }
    const foreign = await statelessCookie(newStateData(), 'another-apps-session-secret-of-32-characters-or-more')
    const garbage = { [`${SESSION_COOKIE}.0`]: 'not-a-jwe' }

    for (const bad of [tampered, truncated, foreign, garbage]) {
      const { outcome, jar } = await request(bad)
      expect(outcome).toBe('unreadable')
      expect(jar.all()).toEqual({})
      expect(jar.changes.every(change => change.options.maxAge === 0)).toBe(true)
    }
  })

  it('chunks beside a stateful cookie (a sign-in since) are deleted, and the stateful cookie is left alone', async () => {
    const cookies = await statelessCookie(newStateData())
    const { outcome, jar } = await request({ ...cookies, [SESSION_COOKIE]: 'the-stateful-cookie' })

    expect(outcome).toBe('superseded')
    expect(jar.all()).toEqual({ [SESSION_COOKIE]: 'the-stateful-cookie' })
    expect(jar.changes.map(change => change.name)).toEqual(Object.keys(cookies))
  })

  it('a request without a stateless cookie is left as it is', async () => {
    const { outcome, jar } = await request({ [SESSION_COOKIE]: 'the-stateful-cookie', [`${SESSION_COOKIE}_other`]: 'x' })
    expect(outcome).toBeUndefined()
    expect(jar.changes).toEqual([])
  })

  it('logs one line per moved session, with no token and no sub', async () => {
    const state = newStateData()
    await request(await statelessCookie(state))

    const lines = vi.mocked(console.info).mock.calls.map(([line]) => String(line)).filter(line => line.startsWith('[session-migration]'))
    expect(lines).toEqual([expect.stringMatching(/^\[session-migration\] moved a session from its stateless cookie into the embedded store: session [0-9a-f]{8}…, user [0-9a-f]{8}, signed in \d{4}-/)])
    for (const secret of [state.user!.sub, state.user!.email as string, state.idToken!, state.refreshToken!, state.internal.sid]) {
      expect(lines[0]).not.toContain(secret)
    }
  })
})

describe('a store outage while moving a session', () => {
  it('answers 503 naming the store, fast, and sends nothing: the browser keeps its cookie for the next try', async () => {
    const store = createSessionStore({ SESSION_STORE: 'embedded', SESSION_STORE_SECRET: STORE_SECRET, EMBEDDED_STORE_DIR: '/dev/null/sessions' }) as EncryptedSessionStore
    const migration = new StatelessSessionMigration(store, { sessionSecret: SESSION_SECRET, sessionConfiguration: DURATIONS })
    const cookies = await statelessCookie(newStateData())
    const jar = new CookieJar(cookies)
    const started = performance.now()

    await expect(migration.migrate(jar)).rejects.toMatchObject({ statusCode: 503, message: expect.stringContaining('The embedded session store at /dev/null/sessions is unavailable') })
    expect(performance.now() - started).toBeLessThan(1500)
    expect(jar.all()).toEqual(cookies)
    await store.close()
  })
})

describe('SESSION_MIGRATE_STATELESS_COOKIES', () => {
  it('is on unless set to false; any other value is refused with a message naming it', () => {
    expect(readMigrationSetting(new EnvReader({}))).toBe(true)
    expect(readMigrationSetting(new EnvReader({ SESSION_MIGRATE_STATELESS_COOKIES: 'false' }))).toBe(false)
    expect(() => readMigrationSetting(new EnvReader({ SESSION_MIGRATE_STATELESS_COOKIES: 'off' })))
      .toThrow('SESSION_MIGRATE_STATELESS_COOKIES must be "true" or "false"; got "off".')
  })
})
