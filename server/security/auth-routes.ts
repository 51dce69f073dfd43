/** The SDK's routes, as the module's runtime config names them (its defaults otherwise). */
export interface AuthRoutes {
  login: string
  callback: string
  logout: string
  backchannelLogout: string
}

export function authRoutes(configured: Partial<AuthRoutes> | undefined): AuthRoutes {
  return {
    login: configured?.login ?? '/auth/login',
    callback: configured?.callback ?? '/auth/callback',
    logout: configured?.logout ?? '/auth/logout',
    backchannelLogout: configured?.backchannelLogout ?? '/auth/backchannel-logout',
  }
}

/**
 * A request path as the router may understand it: percent-decoded, dot segments resolved, slashes
 * collapsed, lower-cased, no trailing slash. Two paths with the same canonical form may reach the
 * same handler, so a check must not tell them apart.
 */
export function canonicalPath(path: string): string {
  const pathname = path.split('?')[0]!
  let decoded: string
  try {
    decoded = decodeURIComponent(pathname)
  }
  catch {
    decoded = pathname
  }
  const resolved = new URL(decoded.replace(/\\/g, '/').replace(/\/{2,}/g, '/'), 'http://canonical').pathname
  return resolved.toLowerCase().replace(/\/+$/, '') || '/'
}

/** The route `path` is, or a variant of (`/auth/logout/`, `/AUTH/Logout`, `/auth/%6Cogout`); undefined for any other path. */
export function authRouteOf(path: string, routes: AuthRoutes): keyof AuthRoutes | undefined {
  const canonical = canonicalPath(path)
  return (Object.keys(routes) as Array<keyof AuthRoutes>).find(name => routes[name].toLowerCase() === canonical)
}

/**
 * Where to start a new sign-in, returning to `returnTo` (the page the failed one was for) when it is
 * a page of this app: a relative path on the app's own origin, and no auth route, which would loop.
 */
export function signInAgainPath(routes: AuthRoutes, returnTo: string | undefined, appBaseUrl: string): string {
  const app = new URL(appBaseUrl)
  const url = returnTo ? URL.parse(returnTo, app) : null
  if (!url || url.origin !== app.origin || authRouteOf(url.pathname, routes)) return routes.login
  const path = `${url.pathname}${url.search}${url.hash}`
  return path === '/' ? routes.login : `${routes.login}?returnTo=${encodeURIComponent(path)}`
}
