// The back-channel endpoint against an attacker: the spec's stricter rules, replays, route spellings,
// body size and type, and rate limits, on every store.
import { randomInt, randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { importJWK, SignJWT, type JWK, type JWTPayload } from 'jose'
import { IDP_DATA_DIR } from './support/deployments'
import { expect, test } from './support/fixtures'
import { logoutTokenClaims, signedByIdp } from './support/logout-tokens'
import { currentSessionOf, expectSignedIn, expectSignedOut, signIn } from './support/sign-in'
import { postStreamedBody } from '../support/streamed-body'

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

test('a logout token is accepted once: the same token again, on this or another app server, is refused', async ({ page, request, user, store, deployment, playwright }) => {
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

test('only a form body is read: JSON gets 415, and 50 MB gets 413 without the server reading it all', async ({ page, request, user, store, deployment, baseURL }) => {
  await signIn(page, user)
  const session = await currentSessionOf(page)
  const token = await signedByIdp(logoutTokenClaims(deployment, { sub: user.sub, sid: session.sid }))

  expect((await request.post('/auth/backchannel-logout', { data: { logout_token: token } })).status()).toBe(415)

  const status = await postStreamedBody(new URL('/auth/backchannel-logout', baseURL), 50)
  expect(status).toBe(413)

  expect(await store.holds(session.id)).toBe(true)
  await expectSignedIn(page, user)
})

test('the app\'s own POST routes refuse a body above 64 KB before doing anything', async ({ request }) => {
  const response = await request.post('/api/demo/end-all-idp-sessions', { data: 'x'.repeat(1024 * 1024), headers: { 'content-type': 'text/plain' } })
  expect(response.status()).toBe(413)
})

test('too many back-channel requests from one address get 429 with Retry-After; other addresses are not affected', async ({ request }) => {
  // The e2e servers trust X-Forwarded-For (TRUST_PROXY) and allow 100 a minute per address (deployments.ts).
  const attacker = { 'x-forwarded-for': `198.51.${randomInt(256)}.${randomInt(1, 255)}` }
  const statuses: number[] = []
  for (let i = 0; i < 101; i++) {
    statuses.push((await request.post('/auth/backchannel-logout', { form: { logout_token: `not-a-token-${i}` }, headers: attacker })).status())
  }
  expect(statuses.slice(0, 100).every(status => status === 400)).toBe(true)
  const limited = await request.post('/auth/backchannel-logout', { form: { logout_token: 'x' }, headers: attacker })
  expect(limited.status()).toBe(429)
  expect(Number(limited.headers()['retry-after'])).toBeGreaterThan(0)

  const someoneElse = await request.post('/auth/backchannel-logout', { form: { logout_token: 'x' }, headers: { 'x-forwarded-for': '203.0.113.9' } })
  expect(someoneElse.status()).toBe(400)
})

test('a genuine token sent to the exact route still signs the user out', async ({ page, request, user, store, deployment }) => {
  await signIn(page, user)
  const session = await currentSessionOf(page)
  const token = await signedByIdp({ ...logoutTokenClaims(deployment, { sub: user.sub, sid: session.sid }), jti: randomUUID() })

  expect((await request.post('/auth/backchannel-logout', { form: { logout_token: token } })).status()).toBe(200)
  expect(await store.holds(session.id)).toBe(false)
  await expectSignedOut(page)
})
