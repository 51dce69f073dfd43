import { describe, expect, it } from 'vitest'
import { SESSION_LIST_HANDLE_SECONDS, SessionListHandles } from '~/server/utils/session-list-handle'
import { SessionCrypto } from '~/server/session-stores/session-crypto'

const secret = 'a-test-only-cookie-secret-of-at-least-32-characters'
const handles = new SessionListHandles(secret)
const now = 1_800_000_000

describe('the demo page\'s handle on a user\'s session list', () => {
  it('gives back the user it was issued for, and never shows the sub', () => {
    const handle = handles.issue('auth0|alice', now)
    expect(handle).not.toContain('alice')
    expect(handles.open(handle, now + 10)).toBe('auth0|alice')
  })

  it('expires', () => {
    const handle = handles.issue('auth0|alice', now)
    expect(handles.open(handle, now + SESSION_LIST_HANDLE_SECONDS - 1)).toBe('auth0|alice')
    expect(handles.open(handle, now + SESSION_LIST_HANDLE_SECONDS)).toBeUndefined()
  })

  it('refuses a handle tampered with, made with another secret, or that is no handle at all', () => {
    const handle = handles.issue('auth0|alice', now)
    const tampered = Buffer.from(handle, 'base64url')
    tampered[tampered.length - 1]! ^= 1
    expect(handles.open(tampered.toString('base64url'), now)).toBeUndefined()
    // Another spelling of the same bytes (a last character's spare bits set) is no handle either:
    // a sub of a length that leaves spare bits, then the last character changed to one decoding the same.
    const spelled = ['a', 'ab', 'abc'].map(sub => handles.issue(sub, now)).find(h => h.length % 4 !== 0)!
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const sameBytes = [...alphabet].map(c => spelled.slice(0, -1) + c)
      .find(h => h !== spelled && Buffer.from(h, 'base64url').equals(Buffer.from(spelled, 'base64url')))
    expect(handles.open(spelled, now)).toBeDefined()
    expect(sameBytes).toBeDefined()
    expect(handles.open(sameBytes!, now)).toBeUndefined()
    expect(new SessionListHandles('another-test-only-secret-of-32-characters!').open(handle, now)).toBeUndefined()
    for (const garbage of ['', 'x', 'not base64 at all!', 'A'.repeat(200)]) expect(handles.open(garbage, now)).toBeUndefined()
  })

  it('is sealed with keys of its own: a store using the same secret opens none of it', () => {
    const sealed = Buffer.from(handles.issue('auth0|alice', now), 'base64url')
    expect(new SessionCrypto(secret).open('session-list-handle/v1', sealed)).toBeUndefined()
  })
})
