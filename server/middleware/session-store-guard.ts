import { createError } from 'h3'
import getSessionStoreInstance from '../utils/session-store-factory'
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
 * Refuses to serve, with the reason, rather than run half-configured: the SDK only logs a missing
 * Auth0 setting, and silently uses cookie sessions when loading the store fails. Every page answers
 * 503 while the store is misconfigured. (A middleware, not a request hook: it runs after the SDK's.)
 */
export default defineEventHandler((event) => {
  // Nuxt renders error.vue through this internal route: let it show the reason.
  if (event.path.startsWith('/__nuxt_error')) return

  if (!event.context.auth0ClientOptions) {
    const auth0 = useRuntimeConfig(event).auth0 as Record<string, unknown>
    const missing = Object.entries(AUTH0_SETTINGS).filter(([key]) => !auth0[key]).map(([, name]) => name)
    // All set: the SDK's plugin, which loads asynchronously, has not finished starting yet.
    if (!missing.length) throw createError({ statusCode: 503, statusMessage: 'Starting', message: 'The server is still starting. Try again in a moment.' })
    throw createError({
      statusCode: 503,
      statusMessage: 'Auth0 is not configured',
      message: `Auth0 is not configured: set ${missing.join(', ')} (see .env.example), or run \`npm run dev\`, which uses the local dev IdP.`,
    })
  }

  const store = getSessionStoreInstance()
  if (!store) return
  if (store instanceof UnavailableSessionStore) throw store.error()
  if (event.context.auth0SessionStore !== store) {
    throw new SessionStoreUnavailableError(
      `The Auth0 SDK is not using the ${store.name} session store (it fell back to cookie sessions). Check the server log for the reason.`)
  }
})
