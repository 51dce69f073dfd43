// What a user does and sees around signing in, in the browser.
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
 * Opens `path` (an app URL; relative to the project's app server by default) while signed out, signs
 * in at the IdP as `user` and waits to be back on `path`.
 */
export async function signIn(page: Page, user: DevUser, path = '/profile') {
  await page.goto(path)
  await idpLoginForm(page).fill(user.loginName)
  await page.getByRole('button', { name: 'Continue' }).click()
  // Back on the app (any of its servers' ports), not on the IdP's.
  await expect(page).toHaveURL(path.startsWith('http') ? path : new RegExp(`^http://localhost:\\d+${escapeRegExp(path)}$`))
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The session facts the app gives the browser's own cookie (/api/session), or undefined when signed out. */
export async function sessionOf(page: Page, appURL?: string): Promise<CurrentSession | undefined> {
  const response = await page.request.get(appURL ? new URL('/api/session', appURL).href : '/api/session')
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
