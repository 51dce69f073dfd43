import { expect, test } from './support/fixtures'
import { currentSessionOf, expectSignedOut, idpLoginForm, signIn } from './support/sign-in'

test('logging out signs the user out of the app and of the IdP, and removes their stored session', { tag: '@every-store' }, async ({ page, user, idp, store, deployment }) => {
  await signIn(page, user)
  const session = await currentSessionOf(page)

  await page.goto('/auth/logout')
  await expect(page).toHaveURL(new RegExp(`^${deployment.appURL}/?$`))
  await expectSignedOut(page)
  expect(await store.holds(session.id)).toBe(false)
  expect(await idp.sidsOf(user.sub)).toEqual([])

  // Signed out at the IdP too: logging in again asks who the user is instead of signing them straight back in.
  await page.goto('/auth/login')
  await expect(idpLoginForm(page)).toBeVisible()
})
