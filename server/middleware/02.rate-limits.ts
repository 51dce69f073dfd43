import { authRouteOf, authRoutes } from '../security/auth-routes'
import { RateLimited, RateLimits, readRateLimitSettings, type LimitName } from '../security/rate-limits'
import { EnvReader } from '../session-stores/session-store-config'
import getSessionStoreInstance from '../utils/session-store-factory'

// Read once: useRuntimeConfig(event) would copy the config for every request this middleware sees.
const routes = authRoutes(useRuntimeConfig().public.auth0?.routes)
const settings = readRateLimitSettings(new EnvReader(process.env))
let limits: RateLimits | undefined

/** Which limits a request counts against: sign-in, the back-channel endpoint (also globally), the app's own POSTs and DELETEs. */
function limitsFor(method: string, path: string): Array<[LimitName, 'client' | 'global']> {
  const route = authRouteOf(path, routes)
  if (route === 'login' || route === 'callback') return [['signIn', 'client']]
  if (route === 'backchannelLogout') return [['backchannelLogout', 'client'], ['backchannelLogoutGlobal', 'global']]
  if ((method === 'POST' || method === 'DELETE') && path.startsWith('/api/')) return [['appPost', 'client']]
  return []
}

/** 429 with Retry-After once a client (or, for the back-channel endpoint, everyone together) sends too much. */
export default defineEventHandler(async (event) => {
  const applicable = limitsFor(event.method, event.path)
  if (!applicable.length) return
  limits ??= new RateLimits(getSessionStoreInstance(), settings)
  const client = getRequestIP(event, { xForwardedFor: settings.trustProxy }) ?? 'unknown'
  try {
    for (const [limit, scope] of applicable) await limits.consume(limit, scope === 'global' ? 'all' : client)
  }
  catch (error) {
    if (!(error instanceof RateLimited)) throw error
    setResponseHeader(event, 'retry-after', error.retryAfterSeconds)
    throw createError({ statusCode: 429, statusMessage: 'Too Many Requests', message: error.message })
  }
})
