import { describe, expect, it } from 'vitest'
import { sessionExpiresAt, type SessionDurations } from '~/server/session-stores/session-expiry'
import { newStateData } from '../support/state-data'

const sdkDefaults: SessionDurations = { absoluteDuration: 259_200, inactivityDuration: 86_400, rolling: true }
const now = 1_800_000_000

describe('when a session expires, by the SDK\'s own rule', () => {
  it('a rolling session lives the inactivity duration from its last write', () => {
    expect(sessionExpiresAt(newStateData({ createdAt: now - 3600 }), sdkDefaults, now)).toBe(now + 86_400)
  })

  it('but never beyond the absolute duration since login', () => {
    expect(sessionExpiresAt(newStateData({ createdAt: now - 259_000 }), sdkDefaults, now)).toBe(now - 259_000 + 259_200)
  })

  it('a non-rolling session lives the absolute duration from each write, as the SDK\'s cookie does', () => {
    expect(sessionExpiresAt(newStateData({ createdAt: now - 3600 }), { ...sdkDefaults, rolling: false }, now)).toBe(now + 259_200)
  })

  it('an enterprise connection\'s session_expiry ceiling caps it', () => {
    const state = { ...newStateData({ createdAt: now }), sessionExpiresAt: now + 600 }
    expect(sessionExpiresAt(state, sdkDefaults, now)).toBe(now + 600)
  })
})
