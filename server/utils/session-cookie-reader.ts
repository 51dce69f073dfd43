import { CookieTransactionStore, type CookieHandler } from '@auth0/auth0-server-js'
import { deleteCookie, getCookie, parseCookies, setCookie, type H3Event } from 'h3'

interface EventOptions { event: H3Event }

/** The SDK's transaction cookie, which lives from /auth/login to /auth/callback (its default name; the Nuxt module does not change it). */
export const TRANSACTION_COOKIE = '__a0_tx'

const h3Cookies: CookieHandler<EventOptions> = {
  setCookie: (name, value, options, storeOptions) => setCookie(storeOptions!.event, name, value, options),
  getCookie: (name, storeOptions) => getCookie(storeOptions!.event, name),
  getCookies: storeOptions => parseCookies(storeOptions!.event),
  deleteCookie: (name, storeOptions) => deleteCookie(storeOptions!.event, name),
}

/**
 * Reads an SDK cookie the way the SDK does: CookieTransactionStore and the session store share
 * one encryption (the secret, salted with the cookie's name), so this decrypts `__a0_session`
 * exactly as the SDK will, and throws where the SDK would throw (an expired cookie).
 */
export function sessionCookieReader(secret: string) {
  const store = new CookieTransactionStore({ secret }, h3Cookies)
  return (event: H3Event, cookieName: string) => store.get(cookieName, { event })
}
