import { SESSION_COOKIE } from '../session-stores/stateless-session-migration'
import { sessionCookieReader } from '../utils/session-cookie-reader'

let read: ReturnType<typeof sessionCookieReader> | undefined

// Cookies this process already decrypted, with their expiry: a repeat request need not decrypt
// again here (the SDK still does). Oldest first; bounded, so memory stays flat.
const readCookies = new Map<string, number>()
const MAX_READ_COOKIES = 10_000

/**
 * The SDK answers 500 to a session cookie that decrypts but has expired (or lacks its key id);
 * a tampered one it already treats as absent. Treat them all as "signed out": drop the cookie
 * from this request and from the browser.
 */
export default defineEventHandler(async (event) => {
  const options = event.context.auth0ClientOptions
  if (!options) return
  // Always this name: auth0-nuxt passes no other to the SDK (sessionConfiguration.cookie.name is not read).
  const name = SESSION_COOKIE
  const cookie = getCookie(event, name)
  const now = Date.now() / 1000
  if (!cookie || (readCookies.get(cookie) ?? 0) > now) return

  read ??= sessionCookieReader(options.sessionSecret)
  try {
    const payload = await read(event, name)
    if (typeof payload?.exp === 'number') {
      if (readCookies.size >= MAX_READ_COOKIES) readCookies.delete(readCookies.keys().next().value!)
      readCookies.set(cookie, payload.exp)
    }
  }
  catch {
    const cookies = parseCookies(event)
    delete cookies[name]
    event.node.req.headers.cookie = Object.entries(cookies).map(([key, value]) => `${key}=${encodeURIComponent(value)}`).join('; ')
    deleteCookie(event, name, { path: '/', secure: true, httpOnly: true, sameSite: 'lax' })
  }
})
