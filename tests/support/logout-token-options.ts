import type { StoreOptions } from '@auth0/auth0-nuxt'

/**
 * The options the SDK passes to deleteByLogoutToken, with the token's `iat` where the app's
 * back-channel middleware (server/middleware/backchannel-logout.ts) leaves it on the event.
 */
export function issuedAt(iat: number): StoreOptions {
  return { event: { context: { logoutTokenIssuedAt: iat } } } as unknown as StoreOptions
}
