import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTVerifyGetKey } from 'jose'

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout'

/** A logout token that must not be acted on; `rule` names what it broke, for the 400 and the log. */
export class LogoutTokenError extends Error {
  override readonly name = 'LogoutTokenError'
  readonly rule: string

  constructor(rule: string, message: string) {
    super(message)
    this.rule = rule
  }
}

/**
 * The IdP's discovery document or signing keys could not be fetched: nothing is known about the
 * token, so it is neither refused (the IdP would not send it again) nor acted on; the route answers 503.
 */
export class IdpUnavailableError extends Error {
  override readonly name = 'IdpUnavailableError'
}

/** A compact JWS whose header and claims decode, checked before anything is fetched from the IdP. */
export function assertJwtShape(token: string): void {
  try {
    decodeProtectedHeader(token)
    decodeJwt(token)
  }
  catch {
    throw new LogoutTokenError('format', 'The logout token is not a signed JWT (header.claims.signature, each base64url, header and claims JSON).')
  }
}

/**
 * The errors that say the key set could not be fetched, rather than anything about the token: jose's
 * timeout, its bare JOSEError (a non-200 or non-JSON answer), and fetch's own network failure.
 */
const keysUnreachable = (error: unknown) => error instanceof errors.JWKSTimeout
  || (error instanceof errors.JOSEError && error.code === 'ERR_JOSE_GENERIC')
  || (error instanceof TypeError && error.message === 'fetch failed')

export interface LogoutTokenRules {
  issuer: string
  clientId: string
  keys: JWTVerifyGetKey
  /** Asymmetric algorithms the IdP signs with; `none` and HMAC never (an HMAC key would be the public key). */
  algorithms: string[]
  /** How far the IdP's clock may run ahead of ours. */
  clockSkewSeconds: number
  /** The oldest `iat` accepted. */
  maxAgeSeconds: number
  /** Accept `typ: JWT` too, for an IdP that does not type its logout tokens explicitly. */
  lenientTyp: boolean
  now?: () => number
}

export interface VerifiedLogoutToken {
  iss: string
  sid?: string
  sub?: string
  jti: string
  iat: number
  exp: number
}

const ASYMMETRIC = /^(RS|PS|ES)(256|384|512)$|^EdDSA$|^Ed25519$/
const LOGOUT_TYP = /^(application\/)?logout\+jwt$/i

const text = (value: unknown) => (typeof value === 'string' && value ? value : undefined)

/**
 * OpenID Connect Back-Channel Logout 1.0 §2.6, strictly, and past the SDKs: the signature with the
 * IdP's published keys; `iss`, `aud`; `iat` not in the future and not older than allowed; `exp`
 * REQUIRED (§2.4) and not passed; `typ` `logout+jwt` when present; the back-channel logout event; no
 * `nonce`; a `sid` or a `sub`; a `jti`. Throws LogoutTokenError naming the rule.
 */
export async function verifyLogoutToken(token: string, rules: LogoutTokenRules): Promise<VerifiedLogoutToken> {
  const now = (rules.now ?? (() => Math.floor(Date.now() / 1000)))()
  assertJwtShape(token)
  let verified: Awaited<ReturnType<typeof jwtVerify>>
  try {
    verified = await jwtVerify(token, rules.keys, {
      issuer: rules.issuer,
      audience: rules.clientId,
      algorithms: rules.algorithms.filter(algorithm => ASYMMETRIC.test(algorithm)),
      requiredClaims: ['iat', 'exp', 'jti'],
      clockTolerance: rules.clockSkewSeconds,
      maxTokenAge: rules.maxAgeSeconds + rules.clockSkewSeconds,
      currentDate: new Date(now * 1000),
    })
  }
  catch (error) {
    if (error instanceof errors.JWTClaimValidationFailed) throw new LogoutTokenError(`claim ${error.claim}`, `The logout token's ${error.claim} is not acceptable: ${error.message}.`)
    if (error instanceof errors.JWTExpired) throw new LogoutTokenError(`claim ${error.claim}`, `The logout token is too old (${error.claim}): ${error.message}.`)
    if (error instanceof errors.JOSEAlgNotAllowed) throw new LogoutTokenError('alg', `The logout token's algorithm is not allowed: ${error.message}.`)
    if (keysUnreachable(error)) throw new IdpUnavailableError(`The IdP's signing keys could not be fetched: ${(error as Error).message}.`, { cause: error })
    if (error instanceof errors.JOSEError) throw new LogoutTokenError('signature', `The logout token is not signed by the IdP: ${error.message}.`)
    throw error
  }
  const { payload, protectedHeader } = verified
  const typ = protectedHeader.typ
  if (typ !== undefined && !LOGOUT_TYP.test(typ) && !(rules.lenientTyp && typ.toUpperCase() === 'JWT')) {
    throw new LogoutTokenError('typ', `The token is typed "${typ}", not logout+jwt.`)
  }
  if ((payload.iat ?? 0) > now + rules.clockSkewSeconds) throw new LogoutTokenError('claim iat', 'The logout token is issued in the future.')
  const events = payload.events as Record<string, unknown> | undefined
  const event = events && typeof events === 'object' ? events[BACKCHANNEL_LOGOUT_EVENT] : undefined
  if (typeof event !== 'object' || event === null) throw new LogoutTokenError('claim events', 'The logout token carries no back-channel logout event.')
  if (payload.nonce !== undefined) throw new LogoutTokenError('claim nonce', 'A logout token must not carry a nonce.')
  const sid = text(payload.sid)
  const sub = text(payload.sub)
  if (!sid && !sub) throw new LogoutTokenError('claim sid/sub', 'The logout token names neither a sid nor a sub.')
  const jti = text(payload.jti)
  if (!jti) throw new LogoutTokenError('claim jti', 'The logout token has no jti.')
  return { iss: payload.iss!, sid, sub, jti, iat: payload.iat!, exp: payload.exp! }
}

interface IdpMetadata {
  issuer: string
  keys: JWTVerifyGetKey
  algorithms: string[]
}

let metadata: Promise<IdpMetadata> | undefined

/**
 * The IdP's issuer, signing keys and algorithms, from its discovery document, fetched once per
 * process (a failure is retried on the next call). Throws IdpUnavailableError when it cannot be had.
 */
export function idpMetadata(domain: string): Promise<IdpMetadata> {
  metadata ??= (async () => {
    const base = domain.startsWith('https://') ? domain : `https://${domain}`
    const url = new URL('.well-known/openid-configuration', base.endsWith('/') ? base : `${base}/`)
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) }).catch((error: unknown) => {
      throw new IdpUnavailableError(`The IdP's discovery document at ${url} could not be fetched: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}.`, { cause: error })
    })
    if (!response.ok) throw new IdpUnavailableError(`The IdP's discovery document at ${url} answered ${response.status}.`)
    // A body cut off by the timeout, or an HTML error page from a proxy, is the IdP not answering too.
    const document = await response.json().catch((error: unknown) => {
      throw new IdpUnavailableError(`The IdP's discovery document at ${url} could not be read: ${(error as Error).message}.`, { cause: error })
    }) as { issuer?: string, jwks_uri?: string, id_token_signing_alg_values_supported?: string[] }
    if (!document.issuer || !document.jwks_uri) throw new IdpUnavailableError(`The IdP's discovery document at ${url} has no issuer or jwks_uri.`)
    return {
      issuer: document.issuer,
      keys: createRemoteJWKSet(new URL(document.jwks_uri), { timeoutDuration: 5000 }),
      algorithms: document.id_token_signing_alg_values_supported ?? ['RS256'],
    }
  })().catch((error: unknown) => {
    metadata = undefined
    throw error
  })
  return metadata
}
