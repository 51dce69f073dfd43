import { randomBytes, randomUUID } from 'node:crypto'
import type { StateData } from '@auth0/auth0-nuxt'

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

/** A JWT-shaped token with the given claims; the store only reads claims, it never verifies. */
export function fakeJwt(claims: Record<string, unknown>): string {
  return `${base64url({ alg: 'RS256', typ: 'JWT' })}.${base64url(claims)}.${randomBytes(256).toString('base64url')}`
}

export interface Person {
  sub: string
  email: string
  name: string
}

export function newPerson(): Person {
  const id = randomUUID()
  return { sub: `auth0|${id}`, email: `${id}@example.com`, name: `Test User ${id.slice(0, 8)}` }
}

export function newSessionId(): string {
  return randomBytes(16).toString('hex')
}

export const ISSUER = 'https://tenant.example.auth0.com/'

/**
 * A session as the SDK hands it to the store after a login: an id token, a refresh token and two
 * access tokens, about the size Auth0 issues.
 */
export function newStateData(options: {
  person?: Person
  sid?: string
  idTokenSid?: string
  createdAt?: number
  issuer?: string
} = {}): StateData {
  const person = options.person ?? newPerson()
  const sid = options.sid ?? randomUUID()
  const now = Math.floor(Date.now() / 1000)
  const idToken = fakeJwt({
    iss: options.issuer ?? ISSUER, sub: person.sub, aud: 'client', iat: now, exp: now + 36000,
    sid: options.idTokenSid ?? sid, name: person.name, email: person.email, email_verified: true,
    picture: 'https://example.com/avatar.png',
  })
  return {
    user: { sub: person.sub, name: person.name, email: person.email, picture: 'https://example.com/avatar.png' },
    idToken,
    refreshToken: `v1.${randomBytes(96).toString('base64url')}`,
    tokenSets: ['https://api.example.com', 'https://billing.example.com'].map(audience => ({
      audience,
      accessToken: fakeJwt({ iss: ISSUER, sub: person.sub, aud: audience, scope: 'openid profile email read:all', permissions: ['read:all', 'write:all'] }),
      scope: 'openid profile email',
      expiresAt: now + 86400,
    })),
    internal: { sid, createdAt: options.createdAt ?? now },
  }
}
