import getSessionStoreInstance from '../utils/session-store-factory'

// Read once: useRuntimeConfig(event) would copy the config for every request this middleware sees.
const logoutPath: string = useRuntimeConfig().public.auth0?.routes?.backchannelLogout ?? '/auth/backchannel-logout'

/**
 * The SDK answers 400 ("bad token") to any failure of a back-channel logout, a store outage
 * included, and an IdP does not resend a token it was told is bad. Check that the store answers
 * first: if not, say 503 (the IdP's problem is on our side) and log loudly, since that logout is lost.
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
})
