import type { Page } from '@playwright/test'
import { expect, test, type OtherSiteHost } from './support/other-site'
import { expectSignedIn, expectSignedOut, signIn } from './support/sign-in'

const ANOTHER_SITE: OtherSiteHost = '127.0.0.1'
// localhost on another port: a different origin, but the same site, so SameSite=Lax cookies go along.
const A_SIBLING_OF_THE_APP: OtherSiteHost = 'localhost'

/** The app's page that refuses the sign-out, and offers its own. */
async function expectSignOutRefused(page: Page) {
  await expect(page.getByRole('heading', { name: 'Sign-out refused' })).toBeVisible()
  await expect(page.getByTestId('error-message')).toContainText('Another site tried to sign you out')
  await expect(page.getByTestId('sign-out')).toBeVisible()
}

test('a link on another site to the app\'s /auth/logout does not sign the user out; the page it lands on does, when asked', async ({ page, user, idp, otherSite, deployment }) => {
  await signIn(page, user)
  const sids = await idp.sidsOf(user.sub)
  const logout = `${deployment.appURL}/auth/logout`
  await page.goto(await otherSite.serve(`<a href="${logout}">See your prize</a>`, ANOTHER_SITE))

  const answer = page.waitForResponse(response => response.url() === logout)
  await page.getByRole('link', { name: 'See your prize' }).click()

  expect((await answer).status()).toBe(403)
  await expectSignOutRefused(page)
  expect(await idp.sidsOf(user.sub)).toEqual(sids)

  // The page's own button is the app's: this sign-out goes through.
  await page.getByTestId('sign-out').click()
  await expect(page).toHaveURL(new RegExp(`^${deployment.appURL}/?$`))
  await expectSignedOut(page)
  expect(await idp.sidsOf(user.sub)).toEqual([])
})

test('a page on a sibling site that sends the browser to /auth/logout by itself is refused too', async ({ page, user, idp, otherSite, deployment }) => {
  await signIn(page, user)
  const sids = await idp.sidsOf(user.sub)
  const logout = `${deployment.appURL}/auth/logout`
  const answer = page.waitForResponse(response => response.url() === logout)

  await page.goto(await otherSite.serve(`<script>location.href = ${JSON.stringify(logout)}</script>`, A_SIBLING_OF_THE_APP))

  expect((await answer).status()).toBe(403)
  await expectSignOutRefused(page)
  expect(await idp.sidsOf(user.sub)).toEqual(sids)
  await expectSignedIn(page, user)
})

test('spellings of /auth/logout a router may accept are refused from another site as well', async ({ page, user, idp, otherSite, deployment }) => {
  await signIn(page, user)
  const sids = await idp.sidsOf(user.sub)
  const variants = ['/auth/logout/', '/AUTH/Logout', '/auth/%6Cogout', '/auth//logout', '/auth/logout?returnTo=/']
  const links = variants.map(path => `<p><a href="${deployment.appURL}${path}">${path}</a></p>`).join('')
  const attacker = await otherSite.serve(links, ANOTHER_SITE)

  for (const path of variants) {
    await page.goto(attacker)
    const answer = page.waitForResponse(response => response.url().startsWith(`${deployment.appURL}/`) && response.request().isNavigationRequest())
    await page.getByRole('link', { name: path, exact: true }).click()
    // 403 here, or 404 from the gate that accepts each SDK route in one spelling only: never the sign-out.
    expect([403, 404], `the app's answer to ${path}`).toContain((await answer).status())
  }
  expect(await idp.sidsOf(user.sub)).toEqual(sids)
  await expectSignedIn(page, user)
})

for (const [site, host] of [['another site', ANOTHER_SITE], ['a sibling site on another port', A_SIBLING_OF_THE_APP]] as const) {
  test(`a form on ${site} that posts to the app's API is refused and ends nothing`, async ({ page, user, idp, otherSite, deployment }) => {
    await signIn(page, user)
    const sids = await idp.sidsOf(user.sub)
    const endAll = `${deployment.appURL}/api/demo/end-all-idp-sessions`
    await page.goto(await otherSite.serve(`<form method="post" action="${endAll}"><button>Claim your prize</button></form>`, host))

    const answer = page.waitForResponse(response => response.url() === endAll)
    await page.getByRole('button', { name: 'Claim your prize' }).click()

    expect((await answer).status()).toBe(403)
    expect(await idp.sidsOf(user.sub)).toEqual(sids)
    await expectSignedIn(page, user)
  })
}

test('the app\'s own "Log out" button still signs the user out', async ({ page, user, idp, deployment }) => {
  await signIn(page, user)

  await page.getByRole('link', { name: 'Log out' }).click()

  await expect(page).toHaveURL(new RegExp(`^${deployment.appURL}/?$`))
  await expectSignedOut(page)
  expect(await idp.sidsOf(user.sub)).toEqual([])
})
