import type { LogoutTokenClaims } from '@auth0/auth0-server-js'
import type { StateData } from '@auth0/auth0-nuxt'
import type { SessionCrypto } from './session-crypto'

/** The keyed hashes a session is found by. Each is `claim:hash`, never the claim itself. */
export interface SessionKeys {
  /** The SDK's `internal.sid` and, when it differs, the id token's `sid` (it can lag after a re-login). */
  sids: string[]
  sub?: string
  iss?: string
}

/** What a logout token asks to end: every session that matches all the keys present. */
export interface LogoutMatch {
  sid?: string
  sub?: string
  iss?: string
}

export interface JwtClaims { sid?: unknown, sub?: unknown, iss?: unknown, iat?: unknown }

/** A JWT's claims, read without verifying: the SDK verified the id token at login (and verifies logout tokens itself). */
export function jwtClaims(token: string | undefined): JwtClaims {
  const payload = token?.split('.')[1]
  if (!payload) return {}
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as JwtClaims
  }
  catch {
    return {}
  }
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined
}

export function sessionKeys(state: StateData, crypto: SessionCrypto): SessionKeys {
  const claims = jwtClaims(state.idToken)
  const sids = new Set([text(state.internal.sid), text(claims.sid)].filter(sid => sid !== undefined))
  const sub = text(claims.sub) ?? text(state.user?.sub)
  const iss = text(claims.iss)
  return {
    sids: [...sids].map(sid => crypto.indexKey('sid', sid)),
    sub: sub && crypto.indexKey('sub', sub),
    iss: iss && crypto.indexKey('iss', iss),
  }
}

export function logoutMatch(claims: LogoutTokenClaims, crypto: SessionCrypto): LogoutMatch | undefined {
  const sid = text(claims.sid)
  const sub = text(claims.sub)
  if (!sid && !sub) return undefined
  const iss = text(claims.iss)
  return {
    sid: sid && crypto.indexKey('sid', sid),
    sub: sub && crypto.indexKey('sub', sub),
    iss: iss && crypto.indexKey('iss', iss),
  }
}

/** A session matches when every key the token carries is one of the session's keys. */
export function matchesLogout(keys: SessionKeys, match: LogoutMatch): boolean {
  return (match.sid === undefined || keys.sids.includes(match.sid))
    && (match.sub === undefined || keys.sub === match.sub)
    && (match.iss === undefined || keys.iss === match.iss)
}
