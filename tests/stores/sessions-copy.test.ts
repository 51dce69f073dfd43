// `sessions:copy` between real backends, each pair in namespaces of its own that the test deletes: a
// team moving from one store to another signs nobody out, and no ended session comes back
// (docs/sessions-copy.md). The store suites' prefixes, so that their sweep of crashed runs covers these too.
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import { readSessionStoreConfig, type BackendName } from '~/server/session-stores/backends'
import type { EncryptedSessionStore } from '~/server/session-stores/encrypted-session-store'
import type { SessionBackend } from '~/server/session-stores/session-backend'
import { copySessions, type CopyReport } from '~/server/session-stores/session-copy'
import { createSessionStore } from '~/server/utils/session-store-factory'
import { issuedAt } from '../support/logout-token-options'
import { ISSUER, newPerson, newSessionId, newStateData } from '../support/state-data'
import { dropStoreData, newNamespace } from '../support/test-namespaces'
import { TEST_SECRET } from './session-store-contract'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://localhost:6379'
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres:postgres@localhost:5432/auth0_sessions'
const MONGODB_URI = process.env.MONGODB_URI

const namespacedEnv: Record<BackendName, (namespace: string) => Record<string, string>> = {
  embedded: namespace => ({ EMBEDDED_STORE_DIR: join(tmpdir(), `auth0-embedded-test-${namespace}`), SESSION_STORE_TIMEOUT_MS: '5000' }),
  redis: namespace => ({ REDIS_URL, REDIS_KEY_PREFIX: `auth0-test-${namespace}:` }),
  postgres: namespace => ({ DATABASE_URL, POSTGRES_SESSION_TABLE: `auth0_test_${namespace}` }),
  mongodb: namespace => ({ MONGODB_URI: MONGODB_URI ?? '', MONGODB_COLLECTION: `sessions_test_${namespace}` }),
}

const PAIRS: Array<[BackendName, BackendName]> = [
  ['embedded', 'redis'], ['embedded', 'postgres'], ['redis', 'postgres'], ['postgres', 'embedded'],
  ...(MONGODB_URI ? [['redis', 'mongodb'], ['mongodb', 'embedded']] as Array<[BackendName, BackendName]> : []),
]

interface Side {
  env: Record<string, string>
  /** The store the app would use on this side. */
  store: EncryptedSessionStore
  /** What sessions:copy reads or writes. */
  backend: SessionBackend
}

/** A store and its backend in a new namespace, both closed and the namespace deleted when the test ends. */
function openSide(name: BackendName, overrides: Record<string, string> = {}): Side {
  const env = { SESSION_STORE: name, SESSION_STORE_SECRET: TEST_SECRET, ...namespacedEnv[name](newNamespace()), ...overrides }
  const config = readSessionStoreConfig(env)
  if (config.kind === 'cookie') throw new Error('unreachable')
  const side = { env, store: createSessionStore(env) as EncryptedSessionStore, backend: config.backend.create(config.backendSettings, config.store) }
  onTestFinished(async () => {
    await Promise.allSettled([side.store.close(), side.backend.close()])
    await dropStoreData(env)
  })
  return side
}

function copy(from: Side, to: Side): Promise<CopyReport> {
  return copySessions(from.backend, to.backend, { secret: TEST_SECRET, batchSize: 2 })
}

const secondsAgo = (seconds: number) => Math.floor(Date.now() / 1000) - seconds

describe.each(PAIRS)('sessions:copy from %s to %s', (fromName, toName) => {
  it('a signed-in user\'s sessions read the same through the target store, as old as they were, and a back-channel logout there ends them', async () => {
    const [from, to] = [openSide(fromName), openSide(toName)]
    const [person, other] = [newPerson(), newPerson()]
    const [laptop, phone, othersPhone] = [newSessionId(), newSessionId(), newSessionId()]
    const states = { [laptop]: newStateData({ person }), [phone]: newStateData({ person }), [othersPhone]: newStateData({ person: other }) }
    for (const [id, state] of Object.entries(states)) await from.store.set(id, state)

    const report = await copy(from, to)
    expect(report.sessions).toMatchObject({ copied: 3, present: 0 })
    expect(report.failure).toBeUndefined()
    for (const [id, state] of Object.entries(states)) {
      expect(await to.store.get(id)).toEqual(state)
      // Made newer, a copied session would escape a logout token issued before the copy.
      expect((await to.backend.read(id))?.createdAt).toBe((await from.backend.read(id))?.createdAt)
    }
    expect((await to.store.sessionsOf(person.sub)).map(session => session.id).sort()).toEqual([laptop, phone].sort())

    await to.store.deleteByLogoutToken({ sub: person.sub }, issuedAt(secondsAgo(60)))
    expect(await to.store.get(laptop), 'a logout token issued before the sign-in ends nothing').toEqual(states[laptop])
    await to.store.deleteByLogoutToken({ sid: states[laptop]!.internal.sid })
    expect(await to.store.get(laptop)).toBeUndefined()
    expect(await to.store.get(phone)).toEqual(states[phone])
    await to.store.deleteByLogoutToken({ sub: person.sub })
    expect(await to.store.get(phone)).toBeUndefined()
    expect(await to.store.get(othersPhone)).toEqual(states[othersPhone])
  })

  it('ended sessions stay ended on the target, and a logout token already used stays used', async () => {
    const [from, to] = [openSide(fromName), openSide(toName)]
    const [loggedOut, endedAtIdp] = [newSessionId(), newSessionId()]
    const [loggedOutState, endedAtIdpState] = [newStateData(), newStateData()]
    await from.store.set(loggedOut, loggedOutState)
    await from.store.delete(loggedOut)
    await from.store.set(endedAtIdp, endedAtIdpState)
    await from.store.deleteByLogoutToken({ sid: endedAtIdpState.internal.sid })
    const jti = randomUUID()
    const expiresAt = secondsAgo(-120)
    expect(await from.store.firstUseOfLogoutToken(ISSUER, jti, expiresAt)).toBe(true)

    const report = await copy(from, to)
    expect(report.tombstones).toMatchObject({ copied: 2 })
    expect(report.onceKeys).toMatchObject({ copied: 1 })
    // A token refresh that was in flight when the session ended.
    await to.store.set(loggedOut, loggedOutState)
    await to.store.set(endedAtIdp, endedAtIdpState)
    expect(await to.store.get(loggedOut)).toBeUndefined()
    expect(await to.store.get(endedAtIdp)).toBeUndefined()
    expect(await to.store.firstUseOfLogoutToken(ISSUER, jti, expiresAt)).toBe(false)
  })

  it('a second run copies nothing and changes nothing', async () => {
    const [from, to] = [openSide(fromName), openSide(toName)]
    const [kept, ended] = [newSessionId(), newSessionId()]
    const state = newStateData()
    await from.store.set(kept, state)
    await from.store.delete(ended)
    await from.store.firstUseOfLogoutToken(ISSUER, randomUUID(), secondsAgo(-120))

    const first = await copy(from, to)
    const second = await copy(from, to)
    expect([first.sessions.copied, first.tombstones.copied, first.onceKeys.copied]).toEqual([1, 1, 1])
    expect(second).toEqual({
      sessions: { 'copied': 0, 'present': 1, 'tombstoned': 0, 'over-cap': 0, 'ended': 0, 'expired': 0 },
      tombstones: { 'copied': 0, 'present': 1, 'tombstoned': 0, 'over-cap': 0, 'ended': 0 },
      onceKeys: { 'copied': 0, 'present': 1, 'tombstoned': 0, 'over-cap': 0, 'ended': 0 },
      accountRecords: { 'copied': 0, 'present': 0, 'tombstoned': 0, 'over-cap': 0, 'ended': 0 },
      unreadable: 0,
    })
    expect(await to.store.get(kept)).toEqual(state)
  })

  it('a session the app wrote to the target meanwhile is kept, not the older copy', async () => {
    const [from, to] = [openSide(fromName), openSide(toName)]
    const id = newSessionId()
    const person = newPerson()
    await from.store.set(id, newStateData({ person }))
    const refreshed = newStateData({ person })
    await to.store.set(id, refreshed)

    expect((await copy(from, to)).sessions).toMatchObject({ copied: 0, present: 1 })
    expect(await to.store.get(id)).toEqual(refreshed)
  })

  it('a session ended on the source after a first copy is ended on the target by the next one', async () => {
    const [from, to] = [openSide(fromName), openSide(toName)]
    const id = newSessionId()
    const state = newStateData()
    await from.store.set(id, state)
    await copy(from, to)
    await from.store.delete(id)

    expect((await copy(from, to)).tombstones).toMatchObject({ ended: 1 })
    await to.store.set(id, state)
    expect(await to.store.get(id)).toBeUndefined()
  })

  it('a session ended on the target is not brought back by a copy', async () => {
    const [from, to] = [openSide(fromName), openSide(toName)]
    const id = newSessionId()
    await from.store.set(id, newStateData())
    await to.store.delete(id)

    expect((await copy(from, to)).sessions).toMatchObject({ copied: 0, tombstoned: 1 })
    expect(await to.store.get(id)).toBeUndefined()
  })

  it('the target\'s cap of sessions per user holds: a user with more keeps the newest', async () => {
    const [from, to] = [openSide(fromName), openSide(toName, { SESSION_STORE_MAX_SESSIONS_PER_USER: '2' })]
    const person = newPerson()
    const ids = [newSessionId(), newSessionId(), newSessionId()]
    for (const id of ids) {
      await from.store.set(id, newStateData({ person }))
      // Distinct creation times, in milliseconds.
      await sleep(5)
    }

    const report = await copy(from, to)
    // Which one is over the cap when it arrives depends on the order the source lists them in.
    expect(report.sessions.copied + report.sessions['over-cap']).toBe(3)
    expect((await to.store.sessionsOf(person.sub)).map(session => session.id).sort()).toEqual(ids.slice(1).sort())
  })

  it('a session sealed under another secret is reported and not copied: the target\'s app could not open it', async () => {
    const [from, to] = [openSide(fromName), openSide(toName)]
    const foreign = createSessionStore({ ...from.env, SESSION_STORE_SECRET: 'another-test-only-secret-of-32-characters-or-more' }) as EncryptedSessionStore
    const id = newSessionId()
    try {
      await foreign.set(id, newStateData())
    }
    finally {
      await foreign.close()
    }

    const report = await copy(from, to)
    expect(report).toMatchObject({ unreadable: 1, sessions: { copied: 0 } })
    expect(await to.backend.read(id)).toBeUndefined()
  })
})

const CLI = fileURLToPath(new URL('../../scripts/sessions-copy.mjs', import.meta.url))

interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/** `npm run sessions:copy -- <args>` as an operator runs it, in a folder with no .env and with only `env` set. */
function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: tmpdir(), env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr })
    })
  })
}

describe('npm run sessions:copy', () => {
  it('says what it would copy, copies, reports, and on a second run skips what is there', async () => {
    const [from, to] = [openSide('embedded'), openSide('redis')]
    const id = newSessionId()
    const state = newStateData()
    await from.store.set(id, state)
    await from.store.delete(newSessionId())
    // The embedded folder serves one process: the command's, now.
    await Promise.all([from.store.close(), from.backend.close()])
    const env = { ...from.env, ...to.env }
    const args = ['--from', 'embedded', '--to', 'redis']

    const dryRun = await runCli([...args, '--dry-run'], env)
    expect(dryRun.stdout).toContain('Would copy   1 sessions, 1 tombstones, 0 logout-token ids')
    expect(dryRun.code).toBe(0)
    expect(await to.store.get(id)).toBeUndefined()

    const first = await runCli(args, env)
    expect(first.stderr).toContain(`copying embedded at ${from.env.EMBEDDED_STORE_DIR} → redis at ${REDIS_URL}`)
    expect(first.stdout).toContain('Sessions     1 copied; skipped: 0 already in the target')
    expect(first.stdout).toContain('Tombstones   1 copied')
    expect(first.stdout).toContain('Errors       0')
    expect(first.stdout).toContain('the app must keep the same SESSION_STORE_SECRET')
    expect(first.code).toBe(0)
    expect(await to.store.get(id)).toEqual(state)

    const second = await runCli(args, env)
    expect(second.stdout).toContain('Sessions     0 copied; skipped: 1 already in the target')
    expect(second.code).toBe(0)
  })

  it('refuses, with what to change, an unknown store, a missing secret and an unreachable store, and never shows a password', async () => {
    const folder = { EMBEDDED_STORE_DIR: join(tmpdir(), `auth0-embedded-test-${newNamespace()}`) }
    const [unknown, noSecret, unreachable] = await Promise.all([
      runCli(['--from', 'embedded', '--to', 'memcached'], { ...folder, SESSION_STORE_SECRET: TEST_SECRET }),
      runCli(['--from', 'embedded', '--to', 'redis'], folder),
      runCli(['--from', 'embedded', '--to', 'redis'], { ...folder, SESSION_STORE_SECRET: TEST_SECRET, REDIS_URL: 'redis://:hunter2@127.0.0.1:1' }),
    ])
    onTestFinished(() => dropStoreData({ SESSION_STORE: 'embedded', SESSION_STORE_SECRET: TEST_SECRET, ...folder }))

    expect(unknown.stderr).toContain('--to "memcached" is not a session store; use one of: embedded, redis, postgres, mongodb.')
    expect(unknown.code).toBe(2)
    expect(noSecret.stderr).toContain('SESSION_STORE_SECRET (or NUXT_AUTH0_SESSION_SECRET) must hold at least 32 characters')
    expect(noSecret.code).toBe(2)
    expect(unreachable.stderr).toContain('Cannot use the target, the redis session store at redis://:***@127.0.0.1:1')
    expect(unreachable.stderr).toContain('check REDIS_URL')
    expect(unreachable.stdout + unreachable.stderr).not.toContain('hunter2')
    expect(unreachable.code).toBe(1)
  })
})
