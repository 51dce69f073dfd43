// @ts-check
// How the dev IdP's back-channel logout POSTs reach an app on localhost, and who sees them.
import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * @typedef {object} Delivery one back-channel logout POST and what the app answered
 * @property {string} url
 * @property {Record<string, unknown>} logoutToken the claims sent (header `typ: logout+jwt`)
 * @property {number} [status] the app's HTTP status
 * @property {string} [error] when no answer came (app down, timeout)
 */

/** @type {AsyncLocalStorage<Delivery[]>} */
const collector = new AsyncLocalStorage()

/**
 * Runs `send` and returns, with its result, every back-channel POST it made.
 * @template T
 * @param {() => Promise<T>} send
 * @returns {Promise<{ result: T, deliveries: Delivery[] }>}
 */
export async function collectDeliveries(send) {
  /** @type {Delivery[]} */
  const deliveries = []
  const result = await collector.run(deliveries, send)
  return { result, deliveries }
}

/** @param {string} jwt */
function claimsOf(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8'))
}

/**
 * oidc-provider's `fetch` option, for development and tests only. oidc-provider passes an
 * undici dispatcher that refuses loopback and private addresses (anti-SSRF); the app under
 * development lives on exactly such an address, so this fetch leaves that dispatcher out.
 * @param {(line: string) => void} log
 * @returns {(url: string | URL, options: RequestInit & { dispatcher?: unknown }) => Promise<Response>}
 */
export function loopbackFetch(log) {
  return async (url, { dispatcher: _refusesLoopback, ...options }) => {
    const logoutToken = options.body instanceof URLSearchParams ? options.body.get('logout_token') : null
    if (!logoutToken) return fetch(url, options)

    /** @type {Delivery} */
    const delivery = { url: String(url), logoutToken: claimsOf(logoutToken) }
    collector.getStore()?.push(delivery)
    const { sub, sid } = delivery.logoutToken
    try {
      const response = await fetch(url, options)
      delivery.status = response.status
      log(`back-channel logout POST ${url} (sub ${sub}, sid ${sid}) -> ${response.status}`)
      return response
    } catch (error) {
      delivery.error = error instanceof Error ? `${error.message}${error.cause ? `: ${error.cause}` : ''}` : String(error)
      log(`back-channel logout POST ${url} (sub ${sub}, sid ${sid}) failed: ${delivery.error}`)
      throw error
    }
  }
}
