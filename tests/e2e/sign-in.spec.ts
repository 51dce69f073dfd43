import { expect, test } from './support/fixtures'
import { currentSessionOf, expectSignedIn, expectSignedOut, idpLoginForm, signIn } from './support/sign-in'

test('a visitor sees a way to log in on the home page, and a greeting once signed in', async ({ page, user }) => {
  await expectSignedOut(page)

  await page.getByTestId('login').click()
  await idpLoginForm(page).fill(user.loginName)
  await page.getByRole('button', { name: 'Continue' }).click()

  await expectSignedIn(page, user)
})

test('a signed-out user who opens their profile signs in at the IdP and comes back to it', async ({ page, user, deployment }) => {
  await page.goto('/profile')
  await expect(page).toHaveURL(new RegExp(`^https://localhost:${deployment.idpPort}/`))
  await idpLoginForm(page).fill(user.loginName)
  await page.getByRole('button', { name: 'Continue' }).click()

  await expect(page).toHaveURL(`${deployment.appURL}/profile`)
  await expect(page.getByTestId('profile-name')).toHaveText(user.name)
  await expect(page.getByTestId('profile-email')).toHaveText(user.email)
  await expect(page.getByTestId('profile-sub')).toHaveText(user.sub)
  await expect(page.getByTestId('session-store')).toHaveText(deployment.store)
})

test('the store holds the signed-in user\'s session, encrypted: no e-mail, sub, sid or token in a dump', { tag: '@every-store' }, async ({ page, user, store, idp }) => {
  await signIn(page, user)
  const session = await currentSessionOf(page)
  const [sid] = await idp.sidsOf(user.sub)

  expect(await store.holds(session.id)).toBe(true)
  const dump = await store.dump()
  expect(dump).not.toContain(user.email)
  expect(dump).not.toContain(user.sub)
  expect(dump).not.toContain(user.sub.replace('|', '%7C'))
  expect(dump).not.toContain(sid)
  // No JWT in clear (the id token): two base64url JSON segments, then the signature.
  expect(dump).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\./)
})
