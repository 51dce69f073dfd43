import { describe, expect, it } from 'vitest'
import { authRouteOf, authRoutes, canonicalPath } from '~/server/security/auth-routes'

const routes = authRoutes(undefined)

describe('which SDK route a request path reaches', () => {
  const variants = ['/auth/backchannel-logout/', '/AUTH/backchannel-logout', '/auth/Backchannel-Logout//', '/auth/backchannel%2Dlogout',
    '/auth//backchannel-logout', '/auth/./backchannel-logout', '/auth/x/../backchannel-logout', '/auth\\backchannel-logout', '/auth/backchannel-logout?x=1']
  for (const variant of variants) {
    it(`${variant} is the back-channel logout route`, () => {
      expect(authRouteOf(variant, routes)).toBe('backchannelLogout')
    })
  }

  it('other paths are no SDK route', () => {
    for (const path of ['/', '/auth', '/auth/backchannel-logouts', '/api/auth/logout', '/auth/%E0%A4%A']) expect(authRouteOf(path, routes)).toBeUndefined()
  })

  it('a canonical path keeps its meaning', () => {
    expect(canonicalPath('/auth/callback?code=1&state=2')).toBe('/auth/callback')
    expect(canonicalPath('/')).toBe('/')
  })
})
