import { CookieJar, type HttpClient } from './http-client'

/**
 * Signs in at the app the way a browser does: /auth/login, the IdP's login form (skipped when the
 * IdP jar already holds an IdP session), /auth/callback. Returns the app's cookies.
 */
export async function signIn(client: HttpClient, appBaseUrl: string, idpJar: CookieJar, userName: string): Promise<CookieJar> {
  const appOrigin = new URL(appBaseUrl).origin
  const appJar = new CookieJar()
  let url = new URL('/auth/login', appBaseUrl)
  for (let step = 0; step < 10; step++) {
    const jar = url.origin === appOrigin ? appJar : idpJar
    let reply = await client.send(url, { cookie: jar.header() })
    jar.take(reply.setCookies)
    if (url.origin === appOrigin && url.pathname === '/auth/callback') {
      if (reply.status !== 302) throw new Error(`Sign-in failed at ${url.pathname}: HTTP ${reply.status} ${reply.body.slice(0, 300)}`)
      return appJar
    }
    if (reply.status === 200 && url.pathname.startsWith('/interaction/')) {
      reply = await client.send(new URL(`${url.pathname}/login`, url), { method: 'POST', cookie: jar.header(), form: { name: userName } })
      jar.take(reply.setCookies)
    }
    if (!reply.location) throw new Error(`Sign-in stopped at ${url.href}: HTTP ${reply.status} with no redirect. ${reply.body.slice(0, 300)}`)
    url = new URL(reply.location, url)
  }
  throw new Error(`Sign-in did not reach ${appBaseUrl}/auth/callback in 10 redirects.`)
}
