// The pages' signed-in and signed-out states, rendered in the Nuxt test environment (the app's own
// plugins, auto-imports and components; no server): who is signed in comes from the SDK's `useUser`
// state, which the server fills in a real request, and /api/session from an endpoint registered here.
import { mountSuspended, registerEndpoint } from '@nuxt/test-utils/runtime'
import { afterEach, describe, expect, it } from 'vitest'
import IndexPage from '~/pages/index.vue'
import ProfilePage from '~/pages/profile.vue'

const alice = { sub: 'dev|alice', name: 'Alice Example', email: 'alice@example.com' }

function signInAs(user: typeof alice | undefined) {
  useUser().value = user
}

function storeAnswers(available: boolean) {
  useSignInAvailability().value = { available }
}

afterEach(() => {
  signInAs(undefined)
  storeAnswers(true)
  // useFetch keeps /api/session's answer by key: each test fetches its own.
  clearNuxtData()
})

describe('the home page', () => {
  it('signed out: says what the starter is and offers Log in, which goes to the SDK\'s login route', async () => {
    const page = await mountSuspended(IndexPage)
    expect(page.get('h1').text()).toBe('Sign in with Auth0. Keep the session on the server.')
    expect(page.find('[data-testid="greeting"]').exists()).toBe(false)
    expect(page.get('a[href="/auth/login"]').text()).toBe('Log in')
  })

  it('signed out while the store is down: Log in is a disabled button that points at the banner', async () => {
    storeAnswers(false)
    const page = await mountSuspended(IndexPage)
    expect(page.find('a[href="/auth/login"]').exists()).toBe(false)
    const button = page.get('button')
    expect(button.text()).toBe('Log in')
    expect(button.attributes('disabled')).toBeDefined()
    expect(button.attributes('aria-describedby')).toBe('sign-in-unavailable')
  })

  it('signed in: greets the user by name and links to the profile and the demo, with no Log in', async () => {
    signInAs(alice)
    const page = await mountSuspended(IndexPage)
    expect(page.get('[data-testid="greeting"]').text()).toBe('Welcome back, Alice Example')
    expect(page.findAll('a').map(link => link.attributes('href'))).toEqual(expect.arrayContaining(['/profile', '/demo/backchannel-logout']))
    expect(page.find('a[href="/auth/login"]').exists()).toBe(false)
  })

  it('signed in without a name: greets by e-mail, then by sub', async () => {
    signInAs({ ...alice, name: undefined as unknown as string })
    expect((await mountSuspended(IndexPage)).get('[data-testid="greeting"]').text()).toBe('Welcome back, alice@example.com')
    signInAs({ sub: alice.sub } as typeof alice)
    expect((await mountSuspended(IndexPage)).get('[data-testid="greeting"]').text()).toBe('Welcome back, dev|alice')
  })
})

describe('the profile page', () => {
  const session = (others: number, store = 'redis') => ({
    store,
    // Unix seconds, as /api/session gives them.
    current: store === 'cookie' ? undefined : { id: 'a1b2c3d4e5f6a7b8c9d0', createdAt: Date.UTC(2026, 10, 27, 9, 30) / 1000, expiresAt: Date.UTC(2026, 11, 4, 9, 30) / 1000 },
    others: Array.from({ length: others }, (_, index) => ({ id: `other-${index}` })),
  })

  it('signed in: the user\'s claims, and where their session is held, with only the first 8 characters of its id', async () => {
    signInAs(alice)
    registerEndpoint('/api/session', () => session(0))
    const page = await mountSuspended(ProfilePage)
    expect(page.get('[data-testid="profile-name"]').text()).toBe('Alice Example')
    expect(page.get('[data-testid="profile-email"]').text()).toBe('alice@example.com')
    expect(page.get('[data-testid="session-store"]').text()).toBe('redis')
    expect(page.text()).toContain('a1b2c3d4…')
    expect(page.text()).toContain('Created27 Nov 2026, 09:30 UTC')
    expect(page.text()).toContain('Expires4 Dec 2026, 09:30 UTC')
    expect(page.text()).not.toContain('a1b2c3d4e5')
    expect(page.text()).not.toContain('also signed in on')
  })

  it('other devices are counted, in words, with a link to see them', async () => {
    signInAs(alice)
    registerEndpoint('/api/session', () => session(1))
    expect((await mountSuspended(ProfilePage)).text()).toContain('You are also signed in on one other browser or device')
    clearNuxtData()
    registerEndpoint('/api/session', () => session(3))
    const page = await mountSuspended(ProfilePage)
    expect(page.text()).toContain('You are also signed in on 3 other browsers or devices')
    expect(page.find('p a[href="/devices"]').exists()).toBe(true)
    expect(page.text()).toContain('see them, and sign them out')
  })

  it('with cookie sessions, it says the session lives in the cookie, not on the server', async () => {
    signInAs(alice)
    registerEndpoint('/api/session', () => session(0, 'cookie'))
    expect((await mountSuspended(ProfilePage)).text()).toContain('SESSION_STORE=cookie: this session lives in an encrypted cookie, not on the server.')
  })

  it('signed out: renders nothing of a profile', async () => {
    registerEndpoint('/api/session', () => session(0))
    const page = await mountSuspended(ProfilePage)
    expect(page.find('[data-testid="profile-name"]').exists()).toBe(false)
  })
})
