import { randomUUID } from 'node:crypto'
import type { JWTPayload } from 'jose'
import { expect, test } from './support/fixtures'
import { logoutTokenClaims, signedByAnotherKey, signedByIdp, unsigned } from './support/logout-tokens'
import { currentSessionOf, expectSignedIn, expectSignedOut, signIn } from './support/sign-in'

const withoutEvents = ({ events: _events, ...claims }: JWTPayload) => claims
const hourAgo = () => Math.floor(Date.now() / 1000) - 3600

/** Each way a logout token can be forged or malformed, given the claims a genuine one would carry. */
const forgeries: [string, (genuine: JWTPayload) => Promise<string> | string][] = [
  ['signed with a key that is not the IdP\'s', claims => signedByAnotherKey(claims)],
  ['not signed at all (alg none)', claims => unsigned(claims)],
  ['meant for another client (aud)', claims => signedByIdp({ ...claims, aud: 'another-client' })],
  ['issued by another IdP (iss)', claims => signedByIdp({ ...claims, iss: 'https://localhost:1/' })],
  ['without the back-channel logout event', claims => signedByIdp(withoutEvents(claims))],
  ['with an event that is not back-channel logout', claims => signedByIdp({ ...claims, events: { 'https://example.com/other-event': {} } })],
  ['carrying a nonce, as an id token would', claims => signedByIdp({ ...claims, nonce: 'n-0S6_WzA2Mj' })],
  ['expired an hour ago', claims => signedByIdp({ ...claims, iat: hourAgo() - 120, exp: hourAgo() })],
  ['not a JWT', () => 'this-is-not-a-jwt'],
]

test('forged or malformed logout tokens are refused with 400 and sign nobody out', async ({ page, request, user, idp, store, deployment }) => {
  await signIn(page, user)
  const session = await currentSessionOf(page)
  const genuine = logoutTokenClaims(deployment, { sub: user.sub, sid: session.sid })

  for (const [forgery, make] of forgeries) {
    await test.step(`a token ${forgery}`, async () => {
      const response = await request.post('/auth/backchannel-logout', { form: { logout_token: await make(genuine) } })
      expect.soft(response.status(), `a logout token ${forgery}`).toBe(400)
    })
  }
  await test.step('an empty body', async () => {
    const response = await request.post('/auth/backchannel-logout', { form: {} })
    expect.soft(response.status()).toBe(400)
  })

  expect(await store.holds(session.id)).toBe(true)
  await expectSignedIn(page, user)
  expect(await idp.sidsOf(user.sub)).toEqual([session.sid])

  // The same claims, signed by the IdP's key, do sign the user out: the forgeries failed for what they got wrong.
  const response = await request.post('/auth/backchannel-logout', { form: { logout_token: await signedByIdp(genuine) } })
  expect(response.status()).toBe(200)
  expect(await store.holds(session.id)).toBe(false)
  await expectSignedOut(page)
})

test('a captured logout token, replayed after the user signed in again, does not sign the new session out', { tag: '@every-store' }, async ({ page, request, user, idp, store }) => {
  await signIn(page, user)
  const first = await currentSessionOf(page)
  const [ended] = await idp.endSession(first.sid)
  const [delivered] = ended!.backchannelLogout
  expect(delivered?.status).toBe(200)
  await expectSignedOut(page)

  await signIn(page, user)
  const second = await currentSessionOf(page)
  expect(second.sid).not.toBe(first.sid)

  // The token the IdP sent for the first session: its claims, signed with its key.
  const captured = await signedByIdp(delivered!.logoutToken)
  await request.post('/auth/backchannel-logout', { form: { logout_token: captured } })

  expect(await store.holds(second.id)).toBe(true)
  await expectSignedIn(page, user)
})

test('a captured "sign out everywhere" token (sub, no sid), replayed after the user signed in again, does not sign the new session out', { tag: '@every-store' }, async ({ page, request, user, store, deployment }) => {
  // Issued half a minute before this sign-in, and still within its expiry when replayed.
  const { sid: _sid, ...everywhere } = logoutTokenClaims(deployment, { sub: user.sub, sid: 'unused' })
  const captured = await signedByIdp({ ...everywhere, iat: Math.floor(Date.now() / 1000) - 30 })
  await signIn(page, user)
  const session = await currentSessionOf(page)

  const replay = await request.post('/auth/backchannel-logout', { form: { logout_token: captured } })

  expect(replay.status()).toBe(200)
  expect(await store.holds(session.id)).toBe(true)
  await expectSignedIn(page, user)

  // A new token with the same claims, issued now, does sign the user out.
  const fresh = await signedByIdp({ ...everywhere, iat: Math.floor(Date.now() / 1000), jti: randomUUID() })
  expect((await request.post('/auth/backchannel-logout', { form: { logout_token: fresh } })).status()).toBe(200)
  expect(await store.holds(session.id)).toBe(false)
  await expectSignedOut(page)
})
