import { describe, expect, it } from 'vitest'
import { authRouteOf, authRoutes, canonicalPath, signInAgainPath } from '~/server/security/auth-routes'

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

describe('after a failed sign-in, "Try again" starts a new one', () => {
  const app = 'http://localhost:3000'

  it('back to the page the user was going to', () => {
    expect(signInAgainPath(routes, 'http://localhost:3000/profile?tab=sessions#top', app)).toBe('/auth/login?returnTo=%2Fprofile%3Ftab%3Dsessions%23top')
    expect(signInAgainPath(routes, '/demo/backchannel-logout', app)).toBe('/auth/login?returnTo=%2Fdemo%2Fbackchannel-logout')
  })

  it('to the home page when that page is unknown, the home page itself, or an auth route', () => {
    for (const returnTo of [undefined, '', 'http://localhost:3000/', '/auth/callback?code=x', '/auth/login']) {
      expect(signInAgainPath(routes, returnTo, app)).toBe('/auth/login')
    }
  })

  it('never to another site', () => {
    for (const returnTo of ['https://evil.example/profile', '//evil.example/profile', '/\\evil.example/profile', 'javascript:alert(1)', 'http://localhost:3001/profile']) {
      expect(signInAgainPath(routes, returnTo, app)).toBe('/auth/login')
    }
  })
})
