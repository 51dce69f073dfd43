import { jwtClaims } from '../session-stores/session-index'
import getSessionStoreInstance from '../utils/session-store-factory'

// Read once: useRuntimeConfig(event) would copy the config for every request this middleware sees.
const logoutPath: string = useRuntimeConfig().public.auth0?.routes?.backchannelLogout ?? '/auth/backchannel-logout'

/**
 * Runs before the SDK's back-channel logout route, for two things the SDK does not do:
 * - It answers 400 ("bad token") to any failure, a store outage included, and an IdP does not
 *   resend a token it was told is bad. So check the store first: if it is down, answer 503 and log.
 * - It hands the store only `sid`/`sub`. The store also needs the token's `iat`, so that a replayed
 *   token cannot end sessions created after it: put it on the event. The SDK verifies the token
 *   right after this; a forged one never reaches the store.
 */
export default defineEventHandler(async (event) => {
  if (event.method !== 'POST' || event.path.split('?')[0] !== logoutPath) return
  const store = getSessionStoreInstance()
  if (!store) return
  try {
    await store.ping()
  }
  catch (error) {
    console.error(`[session-store] A back-channel logout arrived while the store was unavailable; it was refused with 503 and its sessions stay signed in. ${(error as Error).message}`)
    throw createError({ statusCode: 503, statusMessage: 'Session store unavailable' })
  }
  const body = await readBody<{ logout_token?: unknown } | undefined>(event).catch(() => undefined)
  const issuedAt = typeof body?.logout_token === 'string' ? jwtClaims(body.logout_token).iat : undefined
  if (typeof issuedAt === 'number') event.context.logoutTokenIssuedAt = issuedAt
})
