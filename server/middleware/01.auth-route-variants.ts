import { authRouteOf, authRoutes } from '../security/auth-routes'

// Read once: useRuntimeConfig(event) would copy the config for every request this middleware sees.
const routes = authRoutes(useRuntimeConfig().public.auth0?.routes)

/**
 * One gate for /auth/*: the router also sends `/auth/backchannel-logout/` (and other spellings) to
 * the SDK, past checks that match the exact path. Every variant of an SDK route that is not the
 * route itself is refused, so each check sees the one spelling that works.
 */
export default defineEventHandler((event) => {
  const route = authRouteOf(event.path, routes)
  if (route && event.path.split('?')[0] !== routes[route]) {
    throw createError({ statusCode: 404, statusMessage: 'Not Found', message: `Use ${routes[route]} exactly.` })
  }
})
