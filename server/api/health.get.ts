import getSessionStoreInstance from '../utils/session-store-factory'
import { isBearerToken, readHealthDetailsToken } from '../utils/health-details-token'
import { logOutage } from '../utils/outage-log'

// Read once, at the first health check.
const detailsToken = readHealthDetailsToken(process.env)

/**
 * 200 `{ status, store }` when the store answers, 503 when it does not: enough for a load balancer.
 * Why it failed (the store's address, how to start it) and how long it took are shown only in
 * development, or to a caller with `Authorization: Bearer <HEALTH_DETAILS_TOKEN>`; the log always has the reason.
 */
export default defineEventHandler(async (event) => {
  const store = getSessionStoreInstance()
  if (!store) return { status: 'ok', store: 'cookie' }

  const showDetails = import.meta.dev || (detailsToken !== undefined && isBearerToken(getRequestHeader(event, 'authorization'), detailsToken))
  const started = performance.now()
  try {
    await store.ping()
    const roundTripMs = Number((performance.now() - started).toFixed(2))
    return { status: 'ok', store: store.name, ...(showDetails && { roundTripMs }) }
  }
  catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    logOutage(`[unavailable] ${reason}`)
    setResponseStatus(event, 503)
    return { status: 'unavailable', store: store.name, ...(showDetails && { reason }) }
  }
})
