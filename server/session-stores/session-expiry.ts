import type { StateData } from '@auth0/auth0-nuxt'

/** The SDK's `sessionConfiguration`, in seconds. */
export interface SessionDurations {
  absoluteDuration: number
  inactivityDuration: number
  rolling: boolean
}

/**
 * `internal.createdAt` in Unix seconds, as the SDK writes it. The guide this starter grew from
 * (and code copied from it) puts Date.now() there: milliseconds, read here as the seconds they mean.
 */
export function createdAtSeconds(state: StateData): number {
  const createdAt = state.internal.createdAt
  return createdAt > 100_000_000_000 ? Math.floor(createdAt / 1000) : createdAt
}

/**
 * When a session written now stops being valid, in Unix seconds: the SDK's own rule
 * (`calculateMaxAge` in auth0-server-js), which the SDK uses for the cookie but never tells the store.
 */
export function sessionExpiresAt(state: StateData, durations: SessionDurations, nowSeconds: number): number {
  let expiresAt = durations.rolling
    ? Math.min(nowSeconds + durations.inactivityDuration, createdAtSeconds(state) + durations.absoluteDuration)
    : nowSeconds + durations.absoluteDuration
  if (state.sessionExpiresAt !== undefined) expiresAt = Math.min(expiresAt, state.sessionExpiresAt)
  return expiresAt
}

export function nowInSeconds(): number {
  return Math.floor(Date.now() / 1000)
}
