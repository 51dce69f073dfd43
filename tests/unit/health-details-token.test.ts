import { afterEach, describe, expect, it, vi } from 'vitest'
import { isBearerToken, readHealthDetailsToken } from '~/server/utils/health-details-token'

const token = 'a'.repeat(24) + 'health-details'

describe('/api/health shows why the store failed only to whoever holds HEALTH_DETAILS_TOKEN', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('a monitoring tool that sends the token as a bearer token sees the details', () => {
    expect(isBearerToken(`Bearer ${token}`, token)).toBe(true)
  })

  it('a caller without it, with another token, with a prefix of it, or with the bare token does not', () => {
    for (const authorization of [undefined, '', 'Bearer wrong', `Bearer ${token.slice(0, -1)}`, `Bearer ${token}x`, token, `Basic ${token}`]) {
      expect(isBearerToken(authorization, token), String(authorization)).toBe(false)
    }
  })

  it('unset, nobody sees them (outside `nuxt dev`)', () => {
    expect(readHealthDetailsToken({})).toBeUndefined()
    expect(readHealthDetailsToken({ HEALTH_DETAILS_TOKEN: '  ' })).toBeUndefined()
  })

  it('a token too short to resist guessing is refused, with a log line saying what to do', () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {})
    expect(readHealthDetailsToken({ HEALTH_DETAILS_TOKEN: 'hunter2' })).toBeUndefined()
    expect(logged).toHaveBeenCalledWith(expect.stringContaining('HEALTH_DETAILS_TOKEN must hold at least 32 characters; it holds 7'))
    expect(logged).not.toHaveBeenCalledWith(expect.stringContaining('hunter2'))
    expect(readHealthDetailsToken({ HEALTH_DETAILS_TOKEN: token })).toBe(token)
  })
})
