import type { CookieHandler, CookieSerializeOptions } from '@auth0/auth0-server-js'
import { setCookie, type H3Event } from 'h3'

/** A Set-Cookie the jar will send; a deletion is the empty value with `maxAge: 0`. */
export interface CookieChange {
  name: string
  value: string
  options: CookieSerializeOptions
}

/**
 * A request's cookies as the SDK's cookie stores read and change them, kept apart from the request
 * until `applyTo`: work that fails half-way sends nothing and leaves the request as it came.
 */
export class CookieJar {
  readonly #cookies: Map<string, string>
  readonly #changes: CookieChange[] = []

  constructor(requestCookies: Record<string, string>) {
    this.#cookies = new Map(Object.entries(requestCookies))
  }

  get(name: string): string | undefined {
    return this.#cookies.get(name)
  }

  all(): Record<string, string> {
    return Object.fromEntries(this.#cookies)
  }

  set(name: string, value: string, options: CookieSerializeOptions = {}): void {
    this.#cookies.set(name, value)
    this.#changes.push({ name, value, options })
  }

  delete(name: string, options: CookieSerializeOptions = {}): void {
    this.#cookies.delete(name)
    this.#changes.push({ name, value: '', options: { ...options, maxAge: 0 } })
  }

  /** Puts a cookie in this request's view only: nothing is sent to the browser. */
  seed(name: string, value: string): void {
    this.#cookies.set(name, value)
  }

  /** What the browser will be told, in order. */
  get changes(): readonly CookieChange[] {
    return this.#changes
  }

  /** Sends the changes, and makes the rest of this request (the SDK's handlers) see the cookies as changed. */
  applyTo(event: H3Event): void {
    for (const { name, value, options } of this.#changes) setCookie(event, name, value, options)
    event.node.req.headers.cookie = [...this.#cookies].map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('; ')
  }
}

/** The SDK's cookie stores, reading and writing the jar they are given as their store options. */
export const jarCookieHandler: CookieHandler<CookieJar> = {
  getCookie: (name, jar) => jar!.get(name),
  getCookies: jar => jar!.all(),
  setCookie: (name, value, options, jar) => jar!.set(name, value, options),
  deleteCookie: (name, jar, options) => jar!.delete(name, options),
}
