import { describe, expect, it } from 'vitest'
import { SessionCrypto } from '~/server/session-stores/session-crypto'

const crypto = new SessionCrypto('a-test-only-secret-of-at-least-32-characters')

describe('encryption at rest', () => {
  it('round-trips a payload, and each sealing looks different', () => {
    const sealed = crypto.seal('id-1', 'hello')
    expect(crypto.open('id-1', sealed)).toBe('hello')
    expect(crypto.seal('id-1', 'hello').equals(sealed)).toBe(false)
  })

  it('refuses a payload moved to another session id, tampered with, truncated, or sealed with another secret', () => {
    const sealed = crypto.seal('id-1', 'hello')
    expect(crypto.open('id-2', sealed)).toBeUndefined()
    const tampered = Buffer.from(sealed)
    tampered[tampered.length - 1]! ^= 1
    expect(crypto.open('id-1', tampered)).toBeUndefined()
    expect(crypto.open('id-1', sealed.subarray(0, 10))).toBeUndefined()
    expect(new SessionCrypto('another-secret-of-at-least-32-characters!').open('id-1', sealed)).toBeUndefined()
  })

  it('index keys are keyed hashes: stable, distinct per claim, and never the value itself', () => {
    const key = crypto.indexKey('sub', 'auth0|alice')
    expect(crypto.indexKey('sub', 'auth0|alice')).toBe(key)
    expect(crypto.indexKey('sid', 'auth0|alice')).not.toBe(key.replace('sub:', 'sid:'))
    expect(key).not.toContain('alice')
    expect(new SessionCrypto('another-secret-of-at-least-32-characters!').indexKey('sub', 'auth0|alice')).not.toBe(key)
  })
})
