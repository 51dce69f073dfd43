import getSessionStoreInstance from '../utils/session-store-factory'
import { healthDetailsToken, isBearerToken } from '../utils/health-details-token'
import { logOutage } from '../utils/outage-log'
import { servingRefusal } from '../utils/serving-refusal'

/**
 * 200 `{ status, store }` when the app can sign users in, 503 when it cannot (the store does not
 * answer, or Auth0 or the store is misconfigured): enough for a load balancer. Why (the store's
 * address, how to start it, a variable name) and how long the store took are shown only in
 * development, or to a caller with `Authorization: Bearer <HEALTH_DETAILS_TOKEN>`; the log always has the reason.
 */
export default defineEventHandler(async (event) => {
  const store = getSessionStoreInstance()
  const storeName = store?.name ?? 'cookie'
  const detailsToken = healthDetailsToken()
  const showDetails = import.meta.dev || (detailsToken !== undefined && isBearerToken(getRequestHeader(event, 'authorization'), detailsToken))
  const unavailable = (reason: string) => {
    logOutage(`[unavailable] ${reason}`)
    setResponseStatus(event, 503)
    return { status: 'unavailable', store: storeName, ...(showDetails && { reason }) }
  }

  const refusal = servingRefusal(event)
  if (refusal) return unavailable(refusal.message)
  if (!store) return { status: 'ok', store: storeName }
  const started = performance.now()
  try {
    await store.ping()
    const roundTripMs = Number((performance.now() - started).toFixed(2))
    return { status: 'ok', store: storeName, ...(showDetails && { roundTripMs }) }
  }
  catch (error) {
    return unavailable(error instanceof Error ? error.message : String(error))
  }
})
