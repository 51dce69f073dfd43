import type { H3Event } from 'h3'
import { EnvReader } from '../session-stores/session-store-config'
import { SessionStoreUnavailableError } from '../session-stores/session-store-errors'
import { UnavailableSessionStore } from '../session-stores/unavailable-session-store'
import { authRoutes, canonicalPath } from '../security/auth-routes'
import { readFormBody } from '../security/form-body'
import { assertJwtShape, IdpUnavailableError, idpMetadata, LogoutTokenError, verifyLogoutToken } from '../security/logout-token'
import getSessionStoreInstance from '../utils/session-store-factory'

// Read once: useRuntimeConfig(event) would copy the config for every request this middleware sees.
const config = useRuntimeConfig()
const logoutPath = authRoutes(config.public.auth0?.routes).backchannelLogout
const env = new EnvReader(process.env)
const CLOCK_SKEW_SECONDS = 5
const MAX_AGE_SECONDS = env.integer('BACKCHANNEL_LOGOUT_MAX_AGE_SECONDS', 600, { unit: ' of seconds' })
// `typ: JWT` is accepted by default: many IdPs type every JWT so, and it is unverified what Auth0's
// logout tokens carry. A refused delivery is lost for good; the events claim and the absent nonce
// already tell a logout token from an id token or access token (docs/security.md).
const LENIENT_TYP = env.flag('BACKCHANNEL_LOGOUT_ALLOW_JWT_TYP', true)

/** A token that will not be acted on: 400 with the OpenID error shape, and a log line naming the rule. */
function refuse(event: H3Event, rule: string, description: string) {
  console.warn(`[backchannel-logout] refused (${rule}): ${description}`)
  setResponseStatus(event, 400)
  return { error: 'invalid_request', error_description: description }
}

/**
 * The back-channel logout endpoint, answered here rather than by the SDK, which checks less
 * (docs/security.md): a form body of at most 64 KB; the token verified strictly (logout-token.ts);
 * its `jti` accepted once on every app server; the sessions the token names that existed when it
 * was issued ended. 200 only for a token that was checked and acted on; 400 with the OpenID error
 * shape and a log line naming the rule otherwise; 503 when the store, or the IdP's discovery document
 * and keys, cannot be had, since an IdP does not resend a token it was told is bad. With SESSION_STORE=cookie the SDK's route answers.
 */
export default defineEventHandler(async (event) => {
  if (canonicalPath(event.path) !== logoutPath.toLowerCase()) return
  const store = getSessionStoreInstance()
  if (!store) return
  if (event.method !== 'POST') {
    setResponseHeader(event, 'allow', 'POST')
    throw createError({ statusCode: 405, statusMessage: 'Method Not Allowed' })
  }
  setResponseHeader(event, 'cache-control', 'no-store')
  const tokens = (await readFormBody(event)).getAll('logout_token')
  if (tokens.length !== 1) return refuse(event, 'logout_token', `Send exactly one logout_token; got ${tokens.length}.`)
  try {
    // A malformed token is refused before anything is fetched from the IdP or asked of the store.
    assertJwtShape(tokens[0]!)
    if (store instanceof UnavailableSessionStore) throw store.error()
    const idp = await idpMetadata(config.auth0.domain)
    const claims = await verifyLogoutToken(tokens[0]!, {
      issuer: idp.issuer, clientId: config.auth0.clientId, keys: idp.keys, algorithms: idp.algorithms,
      clockSkewSeconds: CLOCK_SKEW_SECONDS, maxAgeSeconds: MAX_AGE_SECONDS, lenientTyp: LENIENT_TYP,
    })
    if (!await store.firstUseOfLogoutToken(claims.iss, claims.jti, claims.exp)) return refuse(event, 'jti', 'This logout token was already used.')
    // The store ends the sessions that existed when the token was issued (replays spare newer ones).
    event.context.logoutTokenIssuedAt = claims.iat
    const ended = await store.endByLogoutToken({ iss: claims.iss, sid: claims.sid, sub: claims.sub }, { event })
    if (ended && claims.sub) {
      await store.recordActivity(claims.sub, claims.sid ? 'signed-out-by-idp' : 'signed-out-everywhere-by-idp', { count: ended })
    }
    setResponseStatus(event, 200)
    return ''
  }
  catch (error) {
    if (error instanceof LogoutTokenError) return refuse(event, error.rule, error.message)
    if (error instanceof SessionStoreUnavailableError) {
      console.error(`[session-store] A back-channel logout arrived while the store was unavailable; it was refused with 503 and its sessions stay signed in. ${error.message}`)
      throw createError({ statusCode: 503, statusMessage: 'Session store unavailable' })
    }
    if (error instanceof IdpUnavailableError) {
      console.error(`[backchannel-logout] A logout token arrived while the IdP's keys could not be had; it was refused with 503 and its sessions stay signed in. ${error.message}`)
      throw createError({ statusCode: 503, statusMessage: 'Identity provider unavailable' })
    }
    throw error
  }
})
