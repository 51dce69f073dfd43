import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, SignJWT, createLocalJWKSet, createRemoteJWKSet, type JWTPayload } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { BACKCHANNEL_LOGOUT_EVENT, IdpUnavailableError, LogoutTokenError, verifyLogoutToken, type LogoutTokenRules } from '~/server/security/logout-token'
import { freePort } from '../support/disposable-servers'

const NOW = 1_800_000_000
const issuer = 'https://idp.example/'
const clientId = 'app'
let rules: LogoutTokenRules
let sign: (claims: JWTPayload, typ?: string) => Promise<string>

beforeAll(async () => {
  const { privateKey, publicKey } = await generateKeyPair('RS256')
  const jwk = { ...await exportJWK(publicKey), kid: 'k1', alg: 'RS256' }
  rules = { issuer, clientId, keys: createLocalJWKSet({ keys: [jwk] }), algorithms: ['RS256'], clockSkewSeconds: 5, maxAgeSeconds: 600, lenientTyp: true, now: () => NOW }
  sign = (claims, typ) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1', ...(typ === undefined ? {} : { typ }) }).sign(privateKey)
})

const claims = (): JWTPayload => ({ iss: issuer, aud: clientId, iat: NOW - 10, exp: NOW + 110, jti: 'j1', sid: 's1', events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } })

describe('a logout token\'s typ', () => {
  it('accepts logout+jwt, no typ, and JWT by default', async () => {
    for (const typ of ['logout+jwt', 'application/logout+jwt', undefined, 'JWT']) {
      await expect(verifyLogoutToken(await sign(claims(), typ), rules), String(typ)).resolves.toMatchObject({ sid: 's1', jti: 'j1' })
    }
  })

  it('refuses JWT when BACKCHANNEL_LOGOUT_ALLOW_JWT_TYP=false', async () => {
    await expect(verifyLogoutToken(await sign(claims(), 'JWT'), { ...rules, lenientTyp: false })).rejects.toMatchObject({ rule: 'typ' })
  })

  it('always refuses another type, such as an access token\'s', async () => {
    const refusal = verifyLogoutToken(await sign(claims(), 'at+jwt'), rules)
    await expect(refusal).rejects.toBeInstanceOf(LogoutTokenError)
    await expect(refusal).rejects.toMatchObject({ rule: 'typ' })
  })

  it('refuses an id token typed JWT: it has no back-channel logout event', async () => {
    const { events: _events, ...idToken } = claims()
    await expect(verifyLogoutToken(await sign({ ...idToken, nonce: 'n' }, 'JWT'), rules)).rejects.toMatchObject({ rule: 'claim events' })
  })
})

describe('what the IdP cannot answer is not blamed on the token', () => {
  it('a token that is not a signed JWT is refused before any key is asked for', async () => {
    const keys = () => {
      throw new Error('the keys were asked for')
    }
    for (const token of ['not-a-jwt', 'a.b.c', '', 'eyJhbGciOiJSUzI1NiJ9.bm90LWpzb24.c2ln']) {
      await expect(verifyLogoutToken(token, { ...rules, keys }), token).rejects.toMatchObject({ rule: 'format' })
    }
  })

  it('signing keys that cannot be fetched (nothing listening, or a 500) are IdpUnavailableError, not a refusal', async () => {
    const token = await sign(claims(), 'logout+jwt')
    const port = await freePort()
    const closed = createRemoteJWKSet(new URL(`http://127.0.0.1:${port}/jwks`), { timeoutDuration: 1000 })
    await expect(verifyLogoutToken(token, { ...rules, keys: closed })).rejects.toBeInstanceOf(IdpUnavailableError)

    const failing = createServer((_request, response) => response.writeHead(500).end('down'))
    await new Promise<void>(listening => failing.listen(0, '127.0.0.1', listening))
    try {
      const keys = createRemoteJWKSet(new URL(`http://127.0.0.1:${(failing.address() as AddressInfo).port}/jwks`), { timeoutDuration: 1000 })
      await expect(verifyLogoutToken(token, { ...rules, keys })).rejects.toBeInstanceOf(IdpUnavailableError)
    }
    finally {
      failing.close()
    }
  })

  it('a key set that answers but holds no key for the token is a refusal', async () => {
    const { publicKey } = await generateKeyPair('RS256')
    const keys = createLocalJWKSet({ keys: [{ ...await exportJWK(publicKey), kid: 'other', alg: 'RS256' }] })
    await expect(verifyLogoutToken(await sign(claims(), 'logout+jwt'), { ...rules, keys })).rejects.toMatchObject({ rule: 'signature' })
  })
})
