import { sessionCookieReader } from '../utils/session-cookie-reader'

let read: ReturnType<typeof sessionCookieReader> | undefined

/**
 * The SDK answers 500 to a session cookie that decrypts but has expired (or lacks its key id);
 * a tampered one it already treats as absent. Treat them all as "signed out": drop the cookie
 * from this request and from the browser.
 */
export default defineEventHandler(async (event) => {
  const options = event.context.auth0ClientOptions
  if (!options) return
  const name: string = options.sessionConfiguration?.cookie?.name ?? '__a0_session'
  if (!getCookie(event, name)) return

  read ??= sessionCookieReader(options.sessionSecret)
  try {
    await read(event, name)
  }
  catch {
    const cookies = parseCookies(event)
    delete cookies[name]
    event.node.req.headers.cookie = Object.entries(cookies).map(([key, value]) => `${key}=${encodeURIComponent(value)}`).join('; ')
    deleteCookie(event, name, { path: '/', secure: true, httpOnly: true, sameSite: 'lax' })
  }
})
