// Only in the Redis project: two app servers share one Redis, as behind a load balancer.
import { expect, test } from './support/fixtures'
import { currentSessionOf, expectSignedIn, expectSignedOut, signIn } from './support/sign-in'

test('a user signed in on one server is signed in on the other, and a logout received by either signs them out on both', { tag: '@every-store' }, async ({ page, user, idp, store, deployment }) => {
  const serverA = deployment.appURL
  const serverB = deployment.peerAppURL!

  await signIn(page, user, `${serverA}/profile`)
  const session = await currentSessionOf(page)

  // Cookies belong to the host, not the port: the same browser carries its session cookie to B.
  await page.goto(`${serverB}/profile`)
  await expect(page).toHaveURL(`${serverB}/profile`)
  await expect(page.getByTestId('profile-email')).toHaveText(user.email)
  await expectSignedIn(page, user, serverB)

  // The IdP's back-channel logout goes to B (its first app URL); A must see the session gone.
  const [ended] = await idp.endSession(session.sid)
  expect(ended!.backchannelLogout).toEqual([expect.objectContaining({ url: `${serverB}/auth/backchannel-logout`, status: 200 })])
  expect(await store.holds(session.id)).toBe(false)
  await expectSignedOut(page, serverA)
  await expectSignedOut(page, serverB)
})
