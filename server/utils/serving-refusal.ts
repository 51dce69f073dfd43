import { createError, type H3Error, type H3Event } from 'h3'
import getSessionStoreInstance from './session-store-factory'
import { SessionStoreUnavailableError } from '../session-stores/session-store-errors'
import { UnavailableSessionStore } from '../session-stores/unavailable-session-store'

const AUTH0_SETTINGS = {
  domain: 'NUXT_AUTH0_DOMAIN',
  clientId: 'NUXT_AUTH0_CLIENT_ID',
  clientSecret: 'NUXT_AUTH0_CLIENT_SECRET',
  sessionSecret: 'NUXT_AUTH0_SESSION_SECRET',
  appBaseUrl: 'NUXT_AUTH0_APP_BASE_URL',
} as const

/**
 * Why this server must not serve now, as the 503 to answer, or undefined when it may: the SDK only
 * logs a missing Auth0 setting, and silently uses cookie sessions when loading the store fails, so
 * both are checked here. Not a store outage: a ping finds that.
 */
export function servingRefusal(event: H3Event): H3Error | undefined {
  if (!event.context.auth0ClientOptions) {
    const auth0 = useRuntimeConfig(event).auth0 as Record<string, unknown>
    const missing = Object.entries(AUTH0_SETTINGS).filter(([key]) => !auth0[key]).map(([, name]) => name)
    // All set: the SDK's plugin, which loads asynchronously, has not finished starting yet.
    if (!missing.length) return createError({ statusCode: 503, statusMessage: 'Starting', message: 'The server is still starting. Try again in a moment.' })
    return createError({
      statusCode: 503,
      statusMessage: 'Auth0 is not configured',
      message: `Auth0 is not configured: set ${missing.join(', ')} (see .env.example), or run \`npm run dev\`, which uses the local dev IdP.`,
    })
  }

  const store = getSessionStoreInstance()
  if (!store) return undefined
  if (store instanceof UnavailableSessionStore) return store.error()
  if (event.context.auth0SessionStore !== store) {
    return new SessionStoreUnavailableError(
      `The Auth0 SDK is not using the ${store.name} session store (it fell back to cookie sessions). Check the server log for the reason.`)
  }
  return undefined
}
