import type { Page } from '@playwright/test'
import { expect, test } from './support/fixtures'
import { currentSessionOf, expectSignedIn, expectSignedOut, idpLoginForm, sessionOf, signIn } from './support/sign-in'

const demo = '/demo/backchannel-logout'

/** POSTs from the page itself, as the demo's buttons do, with the browser's cookies. */
async function postFromPage(page: Page, path: string, body?: object): Promise<number> {
  return page.evaluate(async ({ path, body }) => {
    const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) })
    return response.status
  }, { path, body })
}

/** After a reload, the page shows no active session: the IdP's login form or the app's own "log in". */
async function expectReloadSignedOut(page: Page) {
  await page.reload()
  await expect(idpLoginForm(page).or(page.getByTestId('login'))).toBeVisible()
  expect(await sessionOf(page)).toBeUndefined()
}

test('ending the IdP session from the demo page: the IdP\'s logout token reaches the app and the page shows the session ended', async ({ page, user, store }) => {
  await signIn(page, user, demo)
  const session = await currentSessionOf(page)
  await expect(page.getByTestId('session-state')).toHaveText('active')
  await expect(page.getByTestId('current-sid')).toHaveText(session.sid)

  await page.getByTestId('end-idp-session').click()

  await expect(page.getByTestId('session-state')).toHaveText('ended')
  expect(await store.holds(session.id)).toBe(false)
  await expectReloadSignedOut(page)
})

test('"end all IdP sessions" on the demo page signs the user out on every device', async ({ page, browser, user, store }) => {
  const phone = await (await browser.newContext()).newPage()
  await signIn(phone, user)
  const phoneSession = await currentSessionOf(phone)
  await signIn(page, user, demo)
  await expect(page.getByTestId('session-state')).toHaveText('active')

  await page.getByTestId('end-all-idp-sessions').click()

  await expect(page.getByTestId('session-state')).toHaveText('ended')
  await expectReloadSignedOut(page)
  expect(await store.holds(phoneSession.id)).toBe(false)
  await expectSignedOut(phone)
  await phone.context().close()
})

test('the demo\'s routes refuse a signed-out caller', async ({ page }) => {
  await page.goto('/')
  expect(await postFromPage(page, '/api/demo/end-idp-session')).toBe(401)
  expect(await postFromPage(page, '/api/demo/end-all-idp-sessions')).toBe(401)
})

test('the demo\'s routes act on the caller\'s own session only, whatever sid or sub the body names', async ({ page, browser, newUser }) => {
  const victim = newUser()
  const victimPage = await (await browser.newContext()).newPage()
  await signIn(victimPage, victim)
  const victimSession = await currentSessionOf(victimPage)
  const attacker = newUser()

  await signIn(page, attacker)
  expect(await postFromPage(page, '/api/demo/end-idp-session', { sid: victimSession.sid, sub: victim.sub })).toBe(200)
  await expectSignedOut(page)
  await expectSignedIn(victimPage, victim)

  await signIn(page, attacker)
  expect(await postFromPage(page, '/api/demo/end-all-idp-sessions', { sub: victim.sub, sid: victimSession.sid })).toBe(200)
  await expectSignedOut(page)
  await expectSignedIn(victimPage, victim)
  await victimPage.context().close()
})

test('after this browser\'s session ended, the demo still lists the user\'s other devices, and sees them end too', async ({ page, browser, user, idp }) => {
  const laptop = await (await browser.newContext()).newPage()
  await signIn(laptop, user)
  const laptopSession = await currentSessionOf(laptop)
  await signIn(page, user, demo)
  const otherSessions = page.getByTestId('other-sessions')
  await expect(otherSessions).toContainText(laptopSession.id.slice(0, 8))

  await page.getByTestId('end-idp-session').click()

  await expect(page.getByTestId('session-state')).toHaveText('ended')
  const events = page.getByTestId('events').getByRole('listitem')
  await expect(events.last()).toContainText('This browser\'s session left the store')
  await expect(events.first()).toContainText('Asking the IdP to end this session')
  await expect(otherSessions).toContainText(laptopSession.id.slice(0, 8))

  await idp.endAllSessionsOf(user.sub)
  await expect(events.last()).toContainText(`Your session ${laptopSession.id.slice(0, 8)}… on another device left the store`)
  await expect(page.getByTestId('no-other-sessions')).toBeVisible()
  await laptop.context().close()
})

test('the demo\'s list of sessions shows summaries of the caller\'s own sessions only, and nothing without the page\'s handle', async ({ page, browser, newUser, deployment }) => {
  const [owner, someoneElse] = [newUser(), newUser()]
  const elsewhere = await (await browser.newContext()).newPage()
  await signIn(elsewhere, someoneElse)
  const theirSession = await currentSessionOf(elsewhere)
  await signIn(page, owner)
  const ownSession = await currentSessionOf(page)

  const response = await page.request.get('/api/demo/sessions')
  const text = await response.text()
  const { handle } = JSON.parse(text) as { handle: string }
  for (const secret of [ownSession.id, theirSession.id, theirSession.sid.slice(0, 8), owner.sub, someoneElse.sub]) expect(text).not.toContain(secret)

  // Another browser: no cookie; the handle alone lists the owner's sessions, and a forged one nothing.
  const stranger = await browser.newContext({ baseURL: deployment.appURL })
  expect((await stranger.request.get('/api/demo/sessions')).status()).toBe(401)
  const tampered = Buffer.from(handle, 'base64url')
  tampered[tampered.length - 1]! ^= 1 // one bit of the authentication tag
  expect((await stranger.request.get('/api/demo/sessions', { headers: { authorization: `Bearer ${tampered.toString('base64url')}` } })).status()).toBe(401)
  const listed = await stranger.request.get('/api/demo/sessions', { headers: { authorization: `Bearer ${handle}` } })
  expect(await listed.json()).toEqual({ store: expect.any(String), others: [expect.objectContaining({ ref: ownSession.id.slice(0, 8) })] })
  await stranger.close()
  await elsewhere.context().close()
})
