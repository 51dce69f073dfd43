import type { Page } from '@playwright/test'
import { APP_SESSION_SECRET } from './support/deployments'
import { expect, test } from './support/fixtures'
import { SESSION_COOKIE, sessionCookieValue } from './support/session-cookie'
import { currentSessionOf, expectSignedIn, expectSignedOut, signIn } from './support/sign-in'

async function replaceSessionCookie(page: Page, value: string) {
  await page.context().addCookies([{ name: SESSION_COOKIE, value, domain: 'localhost', path: '/', httpOnly: true, secure: true, sameSite: 'Lax' }])
}

async function sessionCookieOf(page: Page): Promise<string> {
  const cookie = (await page.context().cookies()).find(({ name }) => name === SESSION_COOKIE)
  expect(cookie, `a ${SESSION_COOKIE} cookie after signing in`).toBeDefined()
  return cookie!.value
}

/** What a user with that cookie gets: the home page signed out, 401 from the API, a protected page sends them to log in. Never a 500. */
async function expectTreatedAsSignedOut(page: Page) {
  await expectSignedOut(page)
  expect((await page.request.get('/api/me')).status()).toBe(401)
  const profile = await page.request.get('/profile', { maxRedirects: 0 })
  expect(profile.status()).toBe(302)
  expect(profile.headers().location).toMatch(/^\/auth\/login\b/)
}

test('a garbage session cookie is treated as signed out', async ({ page }) => {
  await replaceSessionCookie(page, 'garbage-that-is-not-a-session')
  await expectTreatedAsSignedOut(page)
})

test('a tampered session cookie is treated as signed out', async ({ page, user }) => {
  await signIn(page, user)
  const parts = (await sessionCookieOf(page)).split('.')
  expect(parts).toHaveLength(5) // a compact JWE: header, key (empty), iv, ciphertext, tag
  const ciphertext = parts[3]!
  parts[3] = (ciphertext[0] === 'A' ? 'B' : 'A') + ciphertext.slice(1)
  await replaceSessionCookie(page, parts.join('.'))
  await expectTreatedAsSignedOut(page)
})

test('an expired session cookie is treated as signed out, not as a server error', async ({ page, user }) => {
  await signIn(page, user)
  const session = await currentSessionOf(page)
  const now = Math.floor(Date.now() / 1000)

  // The cookie the app itself would make for this session: accepted while it has not expired...
  await replaceSessionCookie(page, await sessionCookieValue(session.id, now + 3600, APP_SESSION_SECRET))
  await expectSignedIn(page, user)

  // ...and the same cookie, had it expired an hour ago.
  await replaceSessionCookie(page, await sessionCookieValue(session.id, now - 3600, APP_SESSION_SECRET))
  await expectTreatedAsSignedOut(page)
})
