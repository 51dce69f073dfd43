// The app's session cookie, made the way @auth0/auth0-server-js makes it (its `encrypt`): a JWE
// (dir, A256CBC-HS512) of `{ id }`, keyed by HKDF(secret, salt = cookie name + kid).
import { EncryptJWT } from 'jose'
import { randomUUID } from 'node:crypto'

export const SESSION_COOKIE = '__a0_session'

async function cookieKey(secret: string, kid: string): Promise<Uint8Array> {
  const encoder = new TextEncoder()
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), 'HKDF', false, ['deriveBits'])
  const bits = await crypto.subtle.deriveBits({
    name: 'HKDF',
    hash: 'SHA-256',
    info: encoder.encode('derived cookie encryption secret'),
    salt: encoder.encode(`${SESSION_COOKIE}${kid}`),
  }, key, 512)
  return new Uint8Array(bits)
}

/** A session cookie value naming store record `id`, valid until `expiresAt` (Unix seconds; may be past). */
export async function sessionCookieValue(id: string, expiresAt: number, secret: string): Promise<string> {
  const kid = randomUUID()
  return new EncryptJWT({ id })
    .setProtectedHeader({ alg: 'dir', enc: 'A256CBC-HS512', kid })
    .setExpirationTime(expiresAt)
    .encrypt(await cookieKey(secret, kid))
}
