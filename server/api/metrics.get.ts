import { healthDetailsToken, isBearerToken } from '../utils/health-details-token'
import { sessionMetrics } from '../utils/session-metrics'

/**
 * The session metrics in the Prometheus text format (docs/migration.md says how to read them).
 * Open in development; in production only to `Authorization: Bearer <HEALTH_DETAILS_TOKEN>`, like
 * /api/health's details. Without that token configured it is not served (404); with it, a scraper
 * sending a wrong or no token is told so (401), which a 404 would hide from whoever sets it up.
 */
export default defineEventHandler(async (event) => {
  if (!import.meta.dev) {
    const token = healthDetailsToken()
    if (token === undefined) throw createError({ statusCode: 404, statusMessage: 'Not Found' })
    if (!isBearerToken(getRequestHeader(event, 'authorization'), token)) {
      setResponseHeader(event, 'www-authenticate', 'Bearer realm="metrics"')
      throw createError({ statusCode: 401, statusMessage: 'Unauthorized', message: 'Send Authorization: Bearer <HEALTH_DETAILS_TOKEN>.' })
    }
  }
  setResponseHeader(event, 'content-type', sessionMetrics.contentType)
  return sessionMetrics.metrics()
})
