// An app running on the SDK's cookie sessions (SESSION_STORE=cookie) restarts with this project's
// store: its signed-in browsers stay signed in. Each worker runs one app server of its own, on a
// free port, restarted in one mode then the other, and a dev IdP that knows that server.
import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { BrowserContext, Page } from '@playwright/test'
import { freePort } from '../support/disposable-servers'
import { rawBackend } from '../support/raw-backends'
import { startAppServer, type AppServer } from './support/app-server'
import { repoRoot, storeSettings, type StoreName } from './support/deployments'
import type { DevIdpAdmin } from './support/dev-idp-admin'
import { expect, test as base, type StoreView } from './support/fixtures'
import { SESSION_COOKIE } from './support/session-cookie'
import { devUser, expectSignedIn, expectSignedOut, sessionOf, signIn } from './support/sign-in'
import { startStoryIdp } from './support/story-idp'

const METRICS_TOKEN = randomBytes(32).toString('hex')

/** One app server at a fixed URL, restarted with cookie sessions or with the project's store. */
interface SwitchingApp {
  url: string
  /** Stops the running server, if any, and starts the same build with SESSION_STORE=`mode`. */
  restartWith(mode: 'cookie' | StoreName): Promise<void>
  /** This app's own IdP: its back-channel logouts go to `url`. */
  idp: DevIdpAdmin
  /** The store the app uses once switched, read directly. */
  store: StoreView
}

const test = base.extend<object, { app: SwitchingApp }>({
  app: [async ({ deployment, playwright }, use, workerInfo) => {
    const url = `http://localhost:${await freePort()}`
    const idp = await startStoryIdp(playwright.request, url)
    // The embedded store is one process's: the project's own server holds its folder.
    const embeddedDir = join(repoRoot, `.data/e2e-migration-${workerInfo.workerIndex}`)
    const settings = { ...storeSettings(deployment), ...(deployment.store === 'embedded' && { EMBEDDED_STORE_DIR: embeddedDir }) }
    const raw = rawBackend(settings)
    let server: AppServer | undefined
    let starts = 0
    await use({
      url,
      idp: idp.admin,
      store: { holds: async id => (await raw.nativeExpiry(id)) !== undefined, dump: () => raw.dump() },
      async restartWith(mode) {
        await server?.stop()
        server = undefined
        const env = { ...idp.appEnv, HEALTH_DETAILS_TOKEN: METRICS_TOKEN, ...(mode === 'cookie' ? { SESSION_STORE: 'cookie' } : settings) }
        const logPath = join(repoRoot, 'test-results/servers', `app-migration-${deployment.store}-${new URL(url).port}-${++starts}-${mode}.log`)
        server = await startAppServer(url, env, logPath)
      },
    })
    await server?.stop()
    await Promise.allSettled([raw.close(), idp.close(), rm(embeddedDir, { recursive: true, force: true })])
  }, { scope: 'worker' }],
})

/** The browser's session cookies for the app: their names, and their size as sent (name=value). */
async function sessionCookiesOf(context: BrowserContext, url: string) {
  const cookies = (await context.cookies(url)).filter(cookie => cookie.name.startsWith(SESSION_COOKIE))
  return { names: cookies.map(cookie => cookie.name).sort(), bytes: cookies.reduce((sum, { name, value }) => sum + name.length + 1 + value.length, 0) }
}

/** A sample of the app's /api/metrics (a production build: the token is needed). */
async function metric(page: Page, url: string, sample: string): Promise<number> {
  const response = await page.request.get(`${url}/api/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
  expect(response.status()).toBe(200)
  const line = (await response.text()).split('\n').find(row => row.startsWith(`${sample} `))
  return Number(line?.slice(sample.length + 1))
}

const newUser = (store: string) => devUser(`e2e migration ${store} ${randomBytes(5).toString('hex')}`)

test('a browser signed in on cookie sessions is still signed in once the server uses the store: a small cookie, its session in the store, and ending its IdP session signs it out', { tag: '@every-store' }, async ({ app, deployment, page, context }) => {
  const user = newUser(deployment.store)
  await app.restartWith('cookie')
  await signIn(page, user, `${app.url}/profile`)
  const before = await sessionCookiesOf(context, app.url)
  expect(before.names).toContain(`${SESSION_COOKIE}.0`)

  await app.restartWith(deployment.store)

  await expectSignedIn(page, user, `${app.url}/`)
  const after = await sessionCookiesOf(context, app.url)
  expect(after.names).toEqual([SESSION_COOKIE])
  expect(after.bytes).toBeLessThan(400)
  const session = (await sessionOf(page, app.url))!
  expect(session.store).toBe(deployment.store)
  expect(await app.store.holds(session.current!.id)).toBe(true)
  console.log(`[e2e] ${deployment.store}: session cookies ${before.bytes} bytes in cookie mode (${before.names.length} chunks), ${after.bytes} bytes after the switch`)

  // The metrics say so, to whoever holds the token only.
  expect((await page.request.get(`${app.url}/api/metrics`)).status()).toBe(401)
  expect(await metric(page, app.url, 'auth0_sessions_migrated_total')).toBe(1)

  const [ended] = await app.idp.endSession(session.current!.sid!)
  expect(ended!.backchannelLogout).toEqual([expect.objectContaining({ url: `${app.url}/auth/backchannel-logout`, status: 200 })])
  expect(await app.store.holds(session.current!.id)).toBe(false)
  await expectSignedOut(page, `${app.url}/`)
})

test('two tabs opened at the same moment after the switch are both signed in, on one session', { tag: '@every-store' }, async ({ app, deployment, page, context }) => {
  const user = newUser(deployment.store)
  await app.restartWith('cookie')
  await signIn(page, user, `${app.url}/profile`)

  await app.restartWith(deployment.store)

  const tabs = [page, await context.newPage()]
  await Promise.all(tabs.map(tab => tab.goto(`${app.url}/profile`)))
  for (const tab of tabs) await expect(tab.getByTestId('profile-name')).toHaveText(user.name)
  const session = (await sessionOf(page, app.url))!
  expect(session.current).toBeDefined()
  expect(session.others).toEqual([])
  expect((await sessionCookiesOf(context, app.url)).names).toEqual([SESSION_COOKIE])
  expect(await metric(page, app.url, 'auth0_sessions_migrated_total')).toBe(1)
  console.log(`[e2e] ${deployment.store}: of the two tabs, ${await metric(page, app.url, 'auth0_stateless_session_requests_total{outcome="already_migrated"}')} found the session moved by the other`)
  await app.idp.endAllSessionsOf(user.sub)
})
