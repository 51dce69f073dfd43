// The back-channel endpoint against an attacker, with real sessions: the spec's stricter rules,
// replays, route spellings, on every store. Body size and type, and rate limits, need no session:
// tests/routes/app-routes.test.ts.
import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { importJWK, SignJWT, type JWK, type JWTPayload } from 'jose'
import { IDP_DATA_DIR } from './support/deployments'
import { expect, test } from './support/fixtures'
import { logoutTokenClaims, signedByIdp } from './support/logout-tokens'
import { currentSessionOf, expectSignedIn, expectSignedOut, signIn } from './support/sign-in'

const now = () => Math.floor(Date.now() / 1000)

/** Signed with the IdP's own key, with the header the test chooses. */
async function signedWithHeader(claims: JWTPayload, header: { typ?: string }): Promise<string> {
  const { keys: [jwk] } = JSON.parse(await readFile(join(IDP_DATA_DIR, 'signing-jwks.json'), 'utf8')) as { keys: (JWK & { kid: string })[] }
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: jwk!.kid, ...header }).sign(await importJWK(jwk!, 'RS256'))
}

/** Tokens the SDKs accept and the spec (or good sense) does not, each with what is wrong. */
const strictRules: [string, (genuine: JWTPayload) => Promise<string>][] = [
  ['without exp (REQUIRED, Back-Channel Logout 1.0 §2.4)', ({ exp: _exp, ...claims }) => signedByIdp(claims)],
  ['issued a day in the future', claims => signedByIdp({ ...claims, iat: now() + 86_400, exp: now() + 90_000 })],
  ['issued an hour ago, and still within its exp', claims => signedByIdp({ ...claims, iat: now() - 3600, exp: now() + 3600 })],
  ['typed as an access token (typ at+jwt)', claims => signedWithHeader(claims, { typ: 'at+jwt' })],
  ['without a jti', ({ jti: _jti, ...claims }) => signedByIdp(claims)],
]

test('logout tokens that break the spec\'s stricter rules get 400 with the OpenID error shape, and sign nobody out', async ({ page, request, user, store, deployment }) => {
  await signIn(page, user)
  const session = await currentSessionOf(page)

  for (const [what, make] of strictRules) {
    await test.step(`a token ${what}`, async () => {
      const response = await request.post('/auth/backchannel-logout', { form: { logout_token: await make(logoutTokenClaims(deployment, { sub: user.sub, sid: session.sid })) } })
      expect.soft(response.status(), what).toBe(400)
      expect.soft(await response.json(), what).toMatchObject({ error: 'invalid_request', error_description: expect.any(String) })
    })
  }
  expect(await store.holds(session.id)).toBe(true)
  await expectSignedIn(page, user)
})

test('a logout token is accepted once: the same token again, on this or another app server, is refused', { tag: '@every-store' }, async ({ page, request, user, store, deployment, playwright }) => {
  await signIn(page, user)
  const session = await currentSessionOf(page)
  const token = await signedByIdp(logoutTokenClaims(deployment, { sub: user.sub, sid: session.sid }))

  expect((await request.post('/auth/backchannel-logout', { form: { logout_token: token } })).status()).toBe(200)
  expect(await store.holds(session.id)).toBe(false)

  for (const server of [deployment.appURL, deployment.peerAppURL].filter(Boolean)) {
    const client = await playwright.request.newContext({ baseURL: server })
    const replay = await client.post('/auth/backchannel-logout', { form: { logout_token: token } })
    expect(replay.status(), `a replay at ${server}`).toBe(400)
    expect(await replay.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('already used') })
    await client.dispose()
  }
})

test('a replay sent to another spelling of the route is refused too, and spares the new session', async ({ page, request, user, store, deployment, idp }) => {
  // "Sign out everywhere", issued 5 s ahead (the most skew allowed): by its iat alone it would also
  // end a session signed in during the next ten seconds; only its jti, used once, protects that one.
  const { sid: _sid, ...everywhere } = logoutTokenClaims(deployment, { sub: user.sub, sid: 'unused' })
  const token = await signedByIdp({ ...everywhere, iat: Math.floor(Date.now() / 1000) + 5 })
  await signIn(page, user)
  expect((await request.post('/auth/backchannel-logout', { form: { logout_token: token } })).status()).toBe(200)
  // The token came from the test, not the IdP: end the IdP session too, so that the user signs in anew.
  await idp.endAllSessionsOf(user.sub)

  await signIn(page, user)
  const again = await currentSessionOf(page)
  // The router decodes %2D before any middleware sees the path: that spelling reaches the same checks.
  for (const path of ['/auth/backchannel-logout/', '/AUTH/backchannel-logout', '/auth/backchannel%2Dlogout', '/auth//backchannel-logout', '/auth/backchannel-logout']) {
    const response = await request.post(path, { form: { logout_token: token } })
    expect.soft([400, 404], path).toContain(response.status())
  }
  expect(await store.holds(again.id)).toBe(true)
  await expectSignedIn(page, user)
})

test('a genuine token sent to the exact route still signs the user out', async ({ page, request, user, store, deployment }) => {
  await signIn(page, user)
  const session = await currentSessionOf(page)
  const token = await signedByIdp({ ...logoutTokenClaims(deployment, { sub: user.sub, sid: session.sid }), jti: randomUUID() })

  expect((await request.post('/auth/backchannel-logout', { form: { logout_token: token } })).status()).toBe(200)
  expect(await store.holds(session.id)).toBe(false)
  await expectSignedOut(page)
})
