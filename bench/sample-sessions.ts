import type { StateData } from '@auth0/auth0-nuxt'
import type { LogoutTokenClaims } from '@auth0/auth0-server-js'
import { randomBytes } from 'node:crypto'
import { SessionCrypto } from '../server/session-stores/session-crypto'
import { ISSUER, newSessionId, newStateData } from '../tests/support/state-data'
import { SECRET } from './backends'

/** A stored session as the bench remembers it: enough to read it back or log it out. */
export interface SampleSession {
  id: string
  state: StateData
}

/** A new Auth0-sized session (the contract tests' fixture) with its own user and IdP `sid`. */
export function newSampleSession(): SampleSession {
  return { id: newSessionId(), state: newStateData() }
}

/** The claims the SDK hands the store after verifying an Auth0 logout token for this session. */
export function logoutClaims(session: SampleSession): LogoutTokenClaims {
  return { iss: ISSUER, sub: session.state.user!.sub, sid: session.state.internal.sid }
}

/** Random bytes, as many as the store keeps for `session`: what a floor's raw command moves. */
export function randomPayloadLike(session: SampleSession): Buffer {
  return randomBytes(new SessionCrypto(SECRET).seal(session.id, JSON.stringify(session.state)).length)
}
