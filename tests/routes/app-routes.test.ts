// What the built server answers to plain HTTP, with no browser: the API's signed-out answers, health
// and metrics, the back-channel route's refusals, body and rate limits, and the headers on every
// answer. The stories (tests/e2e/) cover what needs a browser or a signed-in user.
import { $fetch, fetch, getServerLogs, url } from '@nuxt/test-utils/e2e'
import { describe, expect, it } from 'vitest'
import { postStreamedBody } from '../support/streamed-body'
import { HEALTH_DETAILS_TOKEN, setupBuiltServer } from './built-server'

// The server trusts X-Forwarded-For, as behind a proxy, so that the rate-limit test can be one
// address among others; 20 back-channel requests a minute per address.
await setupBuiltServer({ TRUST_PROXY: 'true', RATE_LIMIT_BACKCHANNEL_LOGOUT_PER_MINUTE: '20' })

/** A fresh client address per test, so that no test spends another's rate limit. */
let lastOctet = 0
const address = () => ({ 'x-forwarded-for': `198.51.100.${++lastOctet}` })

const backchannel = (body: BodyInit, headers: Record<string, string> = {}) =>
  fetch('/auth/backchannel-logout', { method: 'POST', body, headers: { ...address(), ...headers } })

const form = (fields: Record<string, string>) => new URLSearchParams(fields)

/** What every answer of the app carries, page or API. */
function expectHeadersOfEveryAnswer(response: Response) {
  expect(response.headers.get('content-security-policy')).toContain('frame-ancestors \'none\'')
  expect(response.headers.get('x-frame-options')).toBe('DENY')
  expect(response.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin')
  expect(response.headers.get('cache-control')).toBe('no-store')
  expect(response.headers.get('x-powered-by')).toBeNull()
}

const nonceOf = (csp: string) => /script-src 'nonce-([^']+)' 'strict-dynamic'/.exec(csp)?.[1]

describe('the API, signed out', () => {
  it('/api/health says the store answers, and which store it is', async () => {
    expect(await $fetch('/api/health')).toEqual({ status: 'ok', store: 'embedded' })
  })

  it('/api/me and /api/session answer 401 in JSON, with no user and no session', async () => {
    for (const path of ['/api/me', '/api/session']) {
      const response = await fetch(path, { headers: { accept: 'application/json' } })
      expect(response.status, path).toBe(401)
      const body = await response.json() as Record<string, unknown>
      expect(body, path).toMatchObject({ statusCode: 401 })
      expect(JSON.stringify(body), path).not.toMatch(/"(sub|email|sid|current)"/)
    }
  })

  it('/api/metrics answers 401 without the operator\'s token and the Prometheus text format with it', async () => {
    expect((await fetch('/api/metrics')).status).toBe(401)
    expect((await fetch('/api/metrics', { headers: { authorization: 'Bearer a-guessed-token' } })).status).toBe(401)
    const metrics = await fetch('/api/metrics', { headers: { authorization: `Bearer ${HEALTH_DETAILS_TOKEN}` } })
    expect(metrics.status).toBe(200)
    expect(metrics.headers.get('content-type')).toContain('text/plain')
    expect(await metrics.text()).toContain('# TYPE auth0_session_cookie_bytes histogram')
  })
})

describe('the devices API, signed out or from another site', () => {
  it('lists nothing and signs nothing out without a session: 401', async () => {
    expect((await fetch('/api/sessions')).status).toBe(401)
    expect((await fetch('/api/activity')).status).toBe(401)
    const sameOrigin = { origin: url('/').replace(/\/$/, '') }
    expect((await fetch('/api/sessions/abc', { method: 'DELETE', headers: sameOrigin })).status).toBe(401)
    expect((await fetch('/api/sessions/revoke-others', { method: 'POST', headers: sameOrigin })).status).toBe(401)
  })

  it('a DELETE or POST from another site is refused before anything else: 403', async () => {
    const elsewhere = { 'origin': 'https://attacker.example', 'sec-fetch-site': 'cross-site' }
    expect((await fetch('/api/sessions/abc', { method: 'DELETE', headers: elsewhere })).status).toBe(403)
    expect((await fetch('/api/sessions/revoke-others', { method: 'POST', headers: elsewhere })).status).toBe(403)
  })
})

describe('the back-channel logout route refuses what is not a logout token, and reads no more than it must', () => {
  it('a form without logout_token, or with one that is not a JWT, gets 400 with the OpenID error shape', async () => {
    for (const body of [form({}), form({ logout_token: '' }), form({ logout_token: 'not-a-jwt' }), form({ logout_token: 'a.b.c' })]) {
      const response = await backchannel(body)
      expect(response.status, body.toString()).toBe(400)
      expect(await response.json()).toMatchObject({ error: 'invalid_request', error_description: expect.any(String) })
    }
  })

  it('a well-formed token while the IdP\'s keys cannot be fetched gets 503, and the log names the IdP: neither refused nor acted on', async () => {
    const claims = Buffer.from(JSON.stringify({ iss: 'https://idp.example/', sub: 'u', jti: 'j' })).toString('base64url')
    const token = `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${claims}.c2lnbmF0dXJl`
    const response = await backchannel(form({ logout_token: token }), { accept: 'application/json' })
    expect(response.status).toBe(503)
    await expect.poll(() => getServerLogs().join('\n')).toMatch(/\[backchannel-logout\] A logout token arrived while the IdP's keys could not be had; .*discovery document at https:\/\/localhost:\d+\/\.well-known\/openid-configuration could not be fetched/)
  })

  it('JSON gets 415; any other method than POST gets 405', async () => {
    const json = await backchannel(JSON.stringify({ logout_token: 'a.b.c' }), { 'content-type': 'application/json' })
    expect(json.status).toBe(415)
    expect((await fetch('/auth/backchannel-logout', { headers: address() })).status).toBe(405)
  })

  it('50 MB get 413 without the server reading them all; any POST declaring more than 64 KB gets 413', async () => {
    const streamed = await postStreamedBody(new URL(url('/auth/backchannel-logout')), 50)
    expect(streamed.sentMegabytes, 'MB the server let the client write').toBeLessThan(50)
    // A reset before the answer was read is Node closing the connection (streamed-body.ts); otherwise the answer is 413.
    if (streamed.status !== undefined) expect(streamed.status).toBe(413)
    const demo = await fetch('/api/demo/end-all-idp-sessions', { method: 'POST', body: 'x'.repeat(1024 * 1024), headers: { 'content-type': 'text/plain' } })
    expect(demo.status).toBe(413)
  })

  it('too many requests from one address get 429 with Retry-After; other addresses are not affected', async () => {
    const attacker = address()
    const statuses: number[] = []
    for (let i = 0; i < 20; i++) statuses.push((await backchannel(form({ logout_token: `not-a-token-${i}` }), attacker)).status)
    expect(statuses).toEqual(Array.from({ length: 20 }, () => 400))
    const limited = await backchannel(form({ logout_token: 'x' }), attacker)
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    expect((await backchannel(form({ logout_token: 'x' }))).status).toBe(400)
  })

  it('other spellings of the SDK\'s routes are not found, rather than reaching a handler', async () => {
    for (const path of ['/auth/backchannel-logout/', '/auth//backchannel-logout', '/AUTH/backchannel-logout', '/auth/backchannel-logout;x', '/auth/logout/', '/Auth/Login']) {
      const response = await fetch(path, { method: 'POST', body: form({ logout_token: 'a.b.c' }), headers: address(), redirect: 'manual' })
      expect(response.status, path).toBe(404)
    }
  })
})

describe('headers on every answer', () => {
  it('a page carries a strict CSP with a fresh nonce on every request, and only its nonced scripts', async () => {
    const [first, second] = [await fetch('/'), await fetch('/')]
    expectHeadersOfEveryAnswer(first)
    const csp = first.headers.get('content-security-policy')!
    expect(csp).toContain('object-src \'none\'')
    expect(csp).toContain('base-uri \'none\'')
    expect(csp).toContain('script-src-attr \'none\'')
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/)
    const nonce = nonceOf(csp)
    expect(nonce, `a nonce in the script-src of ${csp}`).toBeTruthy()
    expect(nonceOf(second.headers.get('content-security-policy')!)).not.toBe(nonce)

    const scripts = (await first.text()).match(/<script\b[^>]*>/g) ?? []
    expect(scripts.length).toBeGreaterThan(0)
    for (const script of scripts) expect(script).toContain(`nonce="${nonce}"`)
  })

  it('a production build tells browsers to use HTTPS only', async () => {
    expect((await fetch('/')).headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains')
  })

  it('an API answer carries the headers too, and a CSP that allows nothing', async () => {
    const response = await fetch('/api/health')
    expect(response.status).toBe(200)
    expectHeadersOfEveryAnswer(response)
    expect(response.headers.get('content-security-policy')).toBe('default-src \'none\'; frame-ancestors \'none\'')
  })

  it('the app\'s scripts and styles under /_nuxt keep their long cache', async () => {
    const asset = /src="(\/_nuxt\/[^"]+\.js)"/.exec(await (await fetch('/')).text())?.[1]
    expect(asset, 'a script under /_nuxt in the home page').toBeTruthy()
    const response = await fetch(asset!)
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
  })
})
