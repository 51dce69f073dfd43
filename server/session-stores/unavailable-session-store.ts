import type { SessionStore, StateData } from '@auth0/auth0-nuxt'
import type { SessionSummary } from './encrypted-session-store'
import { SessionStoreUnavailableError } from './session-store-errors'

/** Stands in when the configuration is wrong, so that every use says why instead of falling back to cookies. */
export class UnavailableSessionStore implements SessionStore {
  readonly name = 'unconfigured'
  readonly location = 'nowhere'
  readonly reason: string

  constructor(reason: string) {
    this.reason = reason
  }

  error(): SessionStoreUnavailableError {
    return new SessionStoreUnavailableError(`The session store is not configured: ${this.reason}`)
  }

  #fail(): never {
    throw this.error()
  }

  async set(): Promise<void> { this.#fail() }
  async get(): Promise<StateData | undefined> { this.#fail() }
  async delete(): Promise<void> { this.#fail() }
  async deleteByLogoutToken(): Promise<void> { this.#fail() }
  async endByLogoutToken(): Promise<number> { this.#fail() }
  async recordActivity(): Promise<void> { this.#fail() }
  async activityOf(): Promise<never[]> { this.#fail() }
  async sessionsOf(): Promise<SessionSummary[]> { this.#fail() }
  handleOf(): string { this.#fail() }
  async prune(): Promise<number> { this.#fail() }
  async ping(): Promise<void> { this.#fail() }
  async close(): Promise<void> {}
}
