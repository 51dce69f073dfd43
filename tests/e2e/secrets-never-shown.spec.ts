// A production server whose session store is down or misconfigured: its users see one short
// sentence, a monitoring tool `{ status, store }`, the operator the reason in the log, at most once
// per 10 s; nobody ever sees the password of the store's URL. Each project breaks its own store, on
// an extra server of its own (a dead port; nothing is shared with the project's deployment).
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { APIRequestContext } from '@playwright/test'
import { freePort } from '../support/disposable-servers'
import { startAppServer, type AppServer } from './support/app-server'
import {
  APP_SESSION_SECRET, SESSION_STORE_SECRET, auth0Env, type Deployment, type StoreName,
} from './support/deployments'
import { expect, test } from './support/fixtures'
import { SESSION_COOKIE, sessionCookieValue } from './support/session-cookie'

interface BrokenStore {
  /** What is wrong, in the test's title. */
  trouble: string
  env: Record<string, string>
  /** What must never leave the server: not in a page, not in /api/health, not in the log. */
  secrets: string[]
  /** What the operator reads in the log (and a holder of the details token in /api/health). */
  reason: string
}

const brokenStores: Record<StoreName, BrokenStore> = {
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
    reason: 'The mongodb session store at mongodb://u:***@127.0.0.1:1/?authSource=admin is unavailable',
  },
  embedded: {
    trouble: 'its encryption secret is too short',
    env: { SESSION_STORE: 'embedded', SESSION_STORE_SECRET: 'hunter2-too-short' },
    secrets: ['hunter2-too-short'],
    reason: 'The session store is not configured: SESSION_STORE_SECRET (or NUXT_AUTH0_SESSION_SECRET) must hold at least 32 characters',
  },
}

const HEALTH_DETAILS_TOKEN = 'e2e-only-health-details-token-not-for-production'
const SIGN_IN_UNAVAILABLE = 'Sign-in is temporarily unavailable. Try again in a moment.'
// What would tell a visitor which store runs where, and how it is started or configured.
const INTERNALS = ['127.0.0.1', 'docker compose', 'REDIS_URL', 'DATABASE_URL', 'MONGODB_URI', 'SESSION_STORE', 'session store', 'redis', 'postgres', 'mongodb']

/**
 * The built server, as deployed (NODE_ENV=production), signing in at the project's IdP, with
 * `broken` as its store; its log goes to the test's output folder.
 */
async function startBrokenServer(deployment: Deployment, broken: BrokenStore): Promise<AppServer> {
  const url = `http://localhost:${await freePort()}`
  return startAppServer(url, {
    NODE_ENV: 'production',
    SESSION_STORE_SECRET,
    EMBEDDED_STORE_DIR: test.info().outputPath('sessions'),
    ...broken.env,
    HEALTH_DETAILS_TOKEN,
    ...auth0Env(deployment, url),
  }, test.info().outputPath('app.log'), { expectedHealth: 503 })
}

/** A returning user's browser: it holds a session cookie, so the app must read the store to answer. */
async function openHomePageAsReturningUser(request: APIRequestContext, server: AppServer) {
  const cookie = await sessionCookieValue(randomBytes(16).toString('hex'), Math.floor(Date.now() / 1000) + 3600, APP_SESSION_SECRET)
  return request.get(server.url, { headers: { accept: 'text/html', cookie: `${SESSION_COOKIE}=${cookie}` } })
}

const unavailableLines = (log: string) => log.split('\n').filter(line => line.startsWith('[unavailable]'))

test('in production, a broken session store shows users a short page, monitoring its status, the operator the reason, and nobody a secret', async ({ request, deployment }) => {
  const broken = brokenStores[deployment.store]
  test.info().annotations.push({ type: 'trouble', description: broken.trouble })
  const server = await startBrokenServer(deployment, broken)
  const shown: string[] = []
  try {
    await test.step('a returning user gets a 503 page that says only that sign-in is unavailable', async () => {
      const page = await openHomePageAsReturningUser(request, server)
      expect(page.status()).toBe(503)
      const html = await page.text()
      shown.push(html)
      expect(html).toContain(SIGN_IN_UNAVAILABLE)
      // The whole HTML, Nuxt's serialized payload (__NUXT_DATA__) included, where error messages usually leak.
      for (const internal of INTERNALS) expect(html.toLowerCase(), `the page shows "${internal}"`).not.toContain(internal.toLowerCase())
    })

    await test.step('a monitoring tool gets 503 { status, store }, and no reason', async () => {
      for (const authorization of [undefined, 'Bearer a-guessed-token', `Bearer ${HEALTH_DETAILS_TOKEN.slice(0, -1)}`]) {
        const health = await request.get(`${server.url}/api/health`, { headers: authorization ? { authorization } : {} })
        expect(health.status()).toBe(503)
        shown.push(await health.text())
        expect(await health.json()).toEqual({ status: 'unavailable', store: expect.any(String) })
      }
    })

    await test.step('an operator with HEALTH_DETAILS_TOKEN gets the reason, and no secret in it', async () => {
      const health = await request.get(`${server.url}/api/health`, { headers: { authorization: `Bearer ${HEALTH_DETAILS_TOKEN}` } })
      expect(health.status()).toBe(503)
      shown.push(await health.text())
      expect(await health.json()).toMatchObject({ status: 'unavailable', reason: expect.stringContaining(broken.reason) })
    })

    await test.step('a flood of failing requests adds a line per reason to the log, not one per request', async () => {
      const before = unavailableLines(await readFile(server.logPath, 'utf8')).length
      for (let i = 0; i < 30; i++) expect((await openHomePageAsReturningUser(request, server)).status()).toBe(503)
      // Two reasons can be due: the store's own ("no connection") and the fail-fast one ("since an earlier call").
      expect(unavailableLines(await readFile(server.logPath, 'utf8')).length - before).toBeLessThanOrEqual(2)
    })
  }
  finally {
    await server.stop()
  }

  const log = await readFile(server.logPath, 'utf8')
  await test.step('the log has the reason; no page, health answer or log line has a secret', async () => {
    expect(unavailableLines(log).join('\n')).toContain(broken.reason)
    for (const secret of broken.secrets) {
      for (const text of [...shown, log]) expect(text, `"${secret}" was shown`).not.toContain(secret)
    }
  })
})
