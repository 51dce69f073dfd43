import { isError, type H3Event } from 'h3'
import { authRoutes, signInAgainPath } from '../security/auth-routes'
import { sessionCookieReader, TRANSACTION_COOKIE } from '../utils/session-cookie-reader'

/**
 * A failed sign-in callback cannot be retried by reloading it: its code is spent and its transaction
 * cookie gone, so a reload says the login was started in another browser. Every error page of the
 * callback (an IdP error, a lost cookie, the store down, a refused code) carries instead where to
 * start a new sign-in, `data.signInAgain`, back to the page the transaction cookie says the user
 * was going to; error.vue's "Try again" goes there.
 * Registered after outage-error-details.ts (Nitro loads plugins in file-name order), which empties a
 * 503's data in production builds.
 */
export default defineNitroPlugin((nitroApp) => {
  const config = useRuntimeConfig()
  const routes = authRoutes(config.public.auth0?.routes)
  const returnTos = new WeakMap<H3Event, string>()
  let read: ReturnType<typeof sessionCookieReader> | undefined

  const isCallback = (event: H3Event) => event.path.split('?')[0] === routes.callback

  // Read before the SDK's callback handler runs: it deletes the cookie before it touches the store.
  nitroApp.hooks.hook('request', async (event) => {
    if (!isCallback(event) || !config.auth0.sessionSecret) return
    read ??= sessionCookieReader(config.auth0.sessionSecret)
    // The SDK's login route keeps `{ returnTo }` there; TransactionData types it `unknown`.
    const appState = (await read(event, TRANSACTION_COOKIE).catch(() => undefined))?.appState as { returnTo?: unknown } | undefined
    if (typeof appState?.returnTo === 'string') returnTos.set(event, appState.returnTo)
  })

  nitroApp.hooks.hook('error', (error, { event }) => {
    if (!event || !isError(error) || !isCallback(event)) return
    error.data = { signInAgain: signInAgainPath(routes, returnTos.get(event), config.auth0.appBaseUrl) }
  })
})
