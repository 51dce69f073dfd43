// A production server whose session store is down or misconfigured: its users see one short
// sentence, a monitoring tool `{ status, store }`, the operator the reason in the log, at most once
// per 10 s; nobody ever sees the password of the store's URL. Each backend is broken in a file of
// its own (store-down-<name>.test.ts: one built server per file), on a dead port or with a bad
// setting, so none needs a server (MongoDB's outage is tested too).
import { randomBytes } from 'node:crypto'
import { fetch, getServerLogs } from '@nuxt/test-utils/e2e'
import { expect, it } from 'vitest'
import type { BackendName } from '~/server/session-stores/backends'
import { SESSION_COOKIE, sessionCookieValue } from '../e2e/support/session-cookie'
import { APP_SESSION_SECRET, HEALTH_DETAILS_TOKEN, setupBuiltServer } from './built-server'

interface BrokenStore {
  /** What is wrong, in the test's title. */
  trouble: string
  env: Record<string, string>
  /** What must never leave the server: not in a page, not in /api/health, not in the log. */
  secrets: string[]
  /** What the operator reads in the log (and a holder of the details token in /api/health). */
  reason: string
}

const brokenStores: Record<BackendName, BrokenStore> = {
  redis: {
    trouble: 'Redis is down',
    env: { SESSION_STORE: 'redis', REDIS_URL: 'redis://:hunter2-userinfo@127.0.0.1:1/0?password=hunter2-query' },
    secrets: ['hunter2-userinfo', 'hunter2-query'],
    reason: 'The redis session store at redis://:***@127.0.0.1:1/0?password=*** is unavailable',
  },
  postgres: {
    trouble: 'PostgreSQL is down',
    env: { SESSION_STORE: 'postgres', DATABASE_URL: 'postgres://u:hunter2-a@127.0.0.1:1/db?password=hunter2-b' },
    secrets: ['hunter2-a', 'hunter2-b'],
    reason: 'The postgres session store at postgres://u:***@127.0.0.1:1/db?password=*** is unavailable',
  },
  mongodb: {
    trouble: 'MongoDB is down',
    env: { SESSION_STORE: 'mongodb', MONGODB_URI: 'mongodb://u:hunter2-a@127.0.0.1:1/?authSource=admin' },
    secrets: ['hunter2-a'],
    reason: 'The mongodb session store at mongodb://u:***@127.0.0.1:1/?authSource=admin (auth0_sessions.sessions) is unavailable',
  },
  embedded: {
    trouble: 'its encryption secret is too short',
    env: { SESSION_STORE: 'embedded', SESSION_STORE_SECRET: 'hunter2-too-short' },
    secrets: ['hunter2-too-short'],
    reason: 'The session store is not configured: SESSION_STORE_SECRET (or NUXT_AUTH0_SESSION_SECRET) must hold at least 32 characters',
  },
}

const SIGN_IN_UNAVAILABLE = 'Sign-in is temporarily unavailable. Try again in a moment.'
// What would tell a visitor which store runs where, and how it is started or configured.
const INTERNALS = ['127.0.0.1', 'docker compose', 'REDIS_URL', 'DATABASE_URL', 'MONGODB_URI', 'SESSION_STORE', 'session store', 'redis', 'postgres', 'mongodb']

/** A returning user's browser: it holds a session cookie, so the app must read the store to answer. */
async function openHomePageAsReturningUser() {
  const cookie = await sessionCookieValue(randomBytes(16).toString('hex'), Math.floor(Date.now() / 1000) + 3600, APP_SESSION_SECRET)
  return fetch('/', { headers: { accept: 'text/html', cookie: `${SESSION_COOKIE}=${cookie}` } })
}

const unavailableLines = () => getServerLogs().filter(line => line.startsWith('[unavailable]'))

/** The tests of one broken backend, against a built server of the calling file's own. */
export async function testBrokenStore(name: BackendName) {
  const broken = brokenStores[name]
  await setupBuiltServer(broken.env)
  const shown: string[] = []

  it(`${broken.trouble}: a returning user gets a 503 page that says only that sign-in is unavailable`, async () => {
    const page = await openHomePageAsReturningUser()
    expect(page.status).toBe(503)
    const html = await page.text()
    shown.push(html)
    expect(html).toContain(SIGN_IN_UNAVAILABLE)
    // The whole HTML, Nuxt's serialized payload (__NUXT_DATA__) included, where error messages usually leak.
    for (const internal of INTERNALS) expect(html.toLowerCase(), `the page shows "${internal}"`).not.toContain(internal.toLowerCase())
  })

  it('a monitoring tool gets 503 { status, store }, and no reason', async () => {
    for (const authorization of [undefined, 'Bearer a-guessed-token', `Bearer ${HEALTH_DETAILS_TOKEN.slice(0, -1)}`]) {
      const health = await fetch('/api/health', { headers: authorization ? { authorization } : {} })
      expect(health.status).toBe(503)
      const body = await health.text()
      shown.push(body)
      expect(JSON.parse(body)).toEqual({ status: 'unavailable', store: expect.any(String) })
    }
  })

  it('an operator with HEALTH_DETAILS_TOKEN gets the reason, and no secret in it', async () => {
    const health = await fetch('/api/health', { headers: { authorization: `Bearer ${HEALTH_DETAILS_TOKEN}` } })
    expect(health.status).toBe(503)
    const body = await health.text()
    shown.push(body)
    expect(JSON.parse(body)).toMatchObject({ status: 'unavailable', reason: expect.stringContaining(broken.reason) })
  })

  it('a flood of failing requests adds a line per reason to the log, not one per request', async () => {
    const before = unavailableLines().length
    for (let i = 0; i < 30; i++) expect((await openHomePageAsReturningUser()).status).toBe(503)
    // Two reasons can be due: the store's own ("no connection") and the fail-fast one ("since an earlier call").
    expect(unavailableLines().length - before).toBeLessThanOrEqual(2)
  })

  it('the log has the reason; no page, health answer or log line has a secret', async () => {
    await expect.poll(() => unavailableLines().join('\n')).toContain(broken.reason)
    const log = getServerLogs().join('\n')
    for (const secret of broken.secrets) {
      for (const text of [...shown, log]) expect(text, `"${secret}" was shown`).not.toContain(secret)
    }
  })
}
