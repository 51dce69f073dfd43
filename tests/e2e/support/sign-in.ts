// What a user does and sees around signing in, in the browser.
import { waitForHydration } from '@nuxt/test-utils/e2e'
import { expect, type Page } from '@playwright/test'
import { slugOf, userClaims } from '../../../dev-idp/accounts.mjs'
import type { SessionSummary } from '~/server/session-stores/encrypted-session-store'
import type { CurrentSession } from '~/server/utils/current-session'

/** A user of the dev IdP: any name signs in, and the same name is always the same user. */
export interface DevUser {
  /** What the user types on the IdP's login form. */
  loginName: string
  sub: string
  name: string
  email: string
}

export function devUser(loginName: string): DevUser {
  const { sub, name, email } = userClaims(slugOf(loginName))
  return { loginName, sub, name, email }
}

/** The dev IdP's login form, where signed-out users land. */
export const idpLoginForm = (page: Page) => page.getByLabel('User name')

/**
 * Signs the browser in as `user` and opens `path` (an app URL; relative to the project's app server by
 * default). The sign-in itself runs over HTTP in the browser's own cookie jar (`page.request`): the
 * same redirects, IdP login form and callback a click-through makes, in a fraction of the time. The
 * browser then holds the app's session cookie and the IdP's, as after a click-through, and the page
 * has hydrated (its buttons work); sign-in.spec.ts clicks through the pages themselves.
 */
export async function signIn(page: Page, user: DevUser, path = '/profile') {
  const appURL = (relative: string) => path.startsWith('http') ? new URL(relative, path).href : relative
  const target = new URL(path, 'http://app.invalid')
  const returnTo = target.pathname + target.search
  const loginPage = await page.request.get(appURL(`/auth/login?returnTo=${encodeURIComponent(returnTo)}`), { maxRetries: 1 })
  const action = /<form method="post" action="([^"]+)">/.exec(await loginPage.text())?.[1]
  expect(action, `the IdP's login form (${loginPage.url()}, ${loginPage.status()})`).toBeTruthy()
  const landed = await page.request.post(new URL(action!.replaceAll('&amp;', '&'), loginPage.url()).href, { form: { name: user.loginName } })
  expect(landed.status(), `back on the app after signing in (${landed.url()})`).toBe(200)
  expect(new URL(landed.url()).pathname + new URL(landed.url()).search).toBe(returnTo)
  await page.goto(path)
  await expect(page).toHaveURL(path.startsWith('http') ? path : new RegExp(`^http://localhost:\\d+${escapeRegExp(path)}$`))
  await waitForHydration(page, path, 'hydration')
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The session facts the app gives the browser's own cookie (/api/session), or undefined when signed out. */
export async function sessionOf(page: Page, appURL?: string): Promise<CurrentSession | undefined> {
  // Retried once on ECONNRESET only: the request context may reuse a keep-alive socket the server closed
  // that instant (Node's 5 s keepAliveTimeout), which the server never saw (a CI run lost a story to it).
  const response = await page.request.get(appURL ? new URL('/api/session', appURL).href : '/api/session', { maxRetries: 1 })
  if (response.status() === 401) return undefined
  expect(response.status(), `/api/session answered ${response.status()}: ${await response.text()}`).toBe(200)
  return response.json()
}

/** The current session of a signed-in page: its store record id and its IdP session id. */
export async function currentSessionOf(page: Page): Promise<SessionSummary & { sid: string }> {
  const session = await sessionOf(page)
  const current = session?.current
  expect(current?.sid, `the signed-in browser has a stored session with a sid; /api/session gave ${JSON.stringify(session)}`).toBeTruthy()
  return current as SessionSummary & { sid: string }
}

/** The home page greets a signed-in user by name. */
export async function expectSignedIn(page: Page, user: DevUser, appURL = '/') {
  const response = await page.goto(appURL)
  expect(response?.status()).toBe(200)
  await expect(page.getByTestId('greeting')).toContainText(user.name)
  await expect(page.getByTestId('login')).toHaveCount(0)
}

/** The home page offers to log in, and the app knows no session for the browser's cookie. */
export async function expectSignedOut(page: Page, appURL = '/') {
  const response = await page.goto(appURL)
  expect(response?.status()).toBe(200)
  await expect(page.getByTestId('login')).toBeVisible()
  await expect(page.getByTestId('greeting')).toHaveCount(0)
  expect(await sessionOf(page, appURL.startsWith('http') ? appURL : undefined)).toBeUndefined()
}
