/**
 * Refuses what another site makes a signed-in browser do: open the SDK's GET /auth/logout (which
 * would sign the user out) or POST to the app's API. Browsers say where a request came from in
 * Sec-Fetch-Site; why these rules, in docs/security.md.
 */
import type { H3Event } from 'h3'
import { authRoutes, canonicalPath } from '../security/auth-routes'

// Read once: useRuntimeConfig(event) would copy the config for every request this middleware sees.
const config = useRuntimeConfig()
const logoutPath = canonicalPath(authRoutes(config.public.auth0?.routes).logout)
const appOrigin = URL.canParse(config.auth0.appBaseUrl) ? new URL(config.auth0.appBaseUrl).origin : undefined

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** Another site (or another port or subdomain of this one) sent the browser here. */
function fromAnotherSite(event: H3Event): boolean {
  const site = getRequestHeader(event, 'sec-fetch-site')
  return site === 'cross-site' || site === 'same-site'
}

/** Only the app's own pages: Sec-Fetch-Site same-origin or, from a browser that does not send it, the app's Origin. */
function fromTheAppItself(event: H3Event): boolean {
  const site = getRequestHeader(event, 'sec-fetch-site')
  if (site !== undefined) return site === 'same-origin'
  return appOrigin !== undefined && getRequestHeader(event, 'origin') === appOrigin
}

export default defineEventHandler((event) => {
  // Any spelling the router may accept (/AUTH/logout/, /auth/%6Cogout) is checked as the route itself.
  const path = canonicalPath(event.path)

  if (path === logoutPath && fromAnotherSite(event)) {
    throw createError({
      statusCode: 403,
      statusMessage: 'Sign-out refused',
      message: 'Another site tried to sign you out of this app, so nothing was done and you are still signed in. To sign out, use the button below.',
    })
  }

  if ((path === '/api' || path.startsWith('/api/')) && !SAFE_METHODS.has(event.method) && !fromTheAppItself(event)) {
    const site = getRequestHeader(event, 'sec-fetch-site')
    throw createError({
      statusCode: 403,
      statusMessage: 'Cross-site request refused',
      message: site
        ? `This ${event.method} came from another origin (Sec-Fetch-Site: ${site}); the app's API accepts changes from its own pages only.`
        : `This ${event.method} carried no Sec-Fetch-Site and its Origin (${getRequestHeader(event, 'origin') ?? 'none'}) is not ${appOrigin ?? 'the app\'s (NUXT_AUTH0_APP_BASE_URL is not a URL)'}; send it from the app's own pages, or with that Origin.`,
    })
  }
})
