import { expect, test } from './support/fixtures'
import { logoutTokenClaims, signedByIdp } from './support/logout-tokens'
import { currentSessionOf, expectSignedIn, expectSignedOut, signIn } from './support/sign-in'

test('when the IdP ends the user\'s session, the app forgets it and the next page shows them signed out', { tag: '@every-store' }, async ({ page, user, idp, store, deployment }) => {
  await signIn(page, user)
  const session = await currentSessionOf(page)
  expect(await store.holds(session.id)).toBe(true)

  const ended = await idp.endSession(session.sid)
  expect(ended.flatMap(e => e.backchannelLogout)).toEqual([
    expect.objectContaining({ url: expect.stringContaining('/auth/backchannel-logout'), status: 200 }),
  ])
  expect(ended[0]!.backchannelLogout[0]!.logoutToken).toMatchObject({ sub: user.sub, sid: session.sid, iss: expect.stringContaining(`:${deployment.idpPort}/`) })

  expect(await store.holds(session.id)).toBe(false)
  await expectSignedOut(page)
})

test('one user on two devices: ending one device\'s IdP session signs out that device only; "sign out everywhere" signs out both', { tag: '@every-store' }, async ({ browser, user, idp, store }) => {
  const laptop = await (await browser.newContext()).newPage()
  const phone = await (await browser.newContext()).newPage()
  await signIn(laptop, user)
  await signIn(phone, user)
  const laptopSession = await currentSessionOf(laptop)
  const phoneSession = await currentSessionOf(phone)
  expect(laptopSession.sid).not.toBe(phoneSession.sid)

  await idp.endSession(laptopSession.sid)
  await expectSignedOut(laptop)
  await expectSignedIn(phone, user)
  expect(await store.holds(laptopSession.id)).toBe(false)
  expect(await store.holds(phoneSession.id)).toBe(true)

  await signIn(laptop, user)
  const laptopAgain = await currentSessionOf(laptop)
  const ended = await idp.endAllSessionsOf(user.sub)
  expect(ended).toHaveLength(2)
  await expectSignedOut(laptop)
  await expectSignedOut(phone)
  expect(await store.holds(laptopAgain.id)).toBe(false)
  expect(await store.holds(phoneSession.id)).toBe(false)

  await laptop.context().close()
  await phone.context().close()
})

test('a logout token that names only the user (sub, no sid) signs out every one of their devices, and no one else', { tag: '@every-store' }, async ({ browser, newUser, store, request, deployment }) => {
  const [alice, bob] = [newUser(), newUser()]
  const laptop = await (await browser.newContext()).newPage()
  const phone = await (await browser.newContext()).newPage()
  const bobsLaptop = await (await browser.newContext()).newPage()
  await signIn(laptop, alice)
  await signIn(phone, alice)
  await signIn(bobsLaptop, bob)
  const sessions = await Promise.all([laptop, phone].map(currentSessionOf))

  const { sid: _sid, ...subOnly } = logoutTokenClaims(deployment, { sub: alice.sub, sid: 'unused' })
  const response = await request.post('/auth/backchannel-logout', { form: { logout_token: await signedByIdp(subOnly) } })
  expect(response.status()).toBe(200)

  for (const session of sessions) expect(await store.holds(session.id)).toBe(false)
  await expectSignedOut(laptop)
  await expectSignedOut(phone)
  await expectSignedIn(bobsLaptop, bob)

  for (const page of [laptop, phone, bobsLaptop]) await page.context().close()
})
