// Back-channel logout tokens made by the test, to send to /auth/backchannel-logout: the claims
// the dev IdP puts in its own (oidc-provider's client.backchannelLogout), and ways to sign them.
import { generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose'
import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { IDP_CLIENT_ID, IDP_DATA_DIR, idpURL, type Deployment } from './deployments'

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout'

/** What the deployment's IdP would send to end the IdP session `sid` of `sub`. */
export function logoutTokenClaims(deployment: Deployment, { sub, sid }: { sub: string, sid: string }): JWTPayload {
  const now = Math.floor(Date.now() / 1000)
  return {
    iss: idpURL(deployment),
    aud: IDP_CLIENT_ID,
    sub,
    sid,
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    jti: randomUUID(),
    iat: now,
    exp: now + 120,
  }
}

async function idpSigningKey() {
  const { keys: [jwk] } = JSON.parse(await readFile(join(IDP_DATA_DIR, 'signing-jwks.json'), 'utf8')) as { keys: (JWK & { kid: string })[] }
  return { key: await importJWK(jwk!, 'RS256'), kid: jwk!.kid }
}

/** Signed as the IdP signs: with its own key (the one its JWKS publishes), RS256, `typ: logout+jwt`. */
export async function signedByIdp(claims: JWTPayload): Promise<string> {
  const { key, kid } = await idpSigningKey()
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'logout+jwt', kid }).sign(key)
}

/** A forgery: the IdP's key id in the header, but signed with a key the attacker made. */
export async function signedByAnotherKey(claims: JWTPayload): Promise<string> {
  const [{ kid }, { privateKey }] = await Promise.all([idpSigningKey(), generateKeyPair('RS256')])
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'logout+jwt', kid }).sign(privateKey)
}

/** A forgery: no signature at all (`alg: none`). */
export function unsigned(claims: JWTPayload): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'none', typ: 'logout+jwt' })}.${part(claims)}.`
}
