import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

// The store the home page's banner asks: a ping that answers, or fails as a store outage does.
const store = { name: 'redis', ping: vi.fn<() => Promise<void>>() }
vi.mock('~/server/utils/session-store-factory', () => ({ default: () => store }))

const refused = () => Promise.reject(new Error('The redis session store at redis://:***@10.0.0.7:6379 is unavailable: no connection.'))

describe('whether a signed-out visitor can sign in (the home page\'s banner)', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    vi.resetModules() // each test starts with nothing cached
    store.ping.mockReset()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  const availability = async () => (await import('~/server/utils/sign-in-availability')).signInAvailability

  it('names the store that does not answer in plain words, and never its address outside development', async () => {
    store.ping.mockImplementation(refused)
    const answer = await (await availability())()
    expect(answer).toEqual({ available: false, store: 'Redis' })
    expect(JSON.stringify(answer)).not.toContain('10.0.0.7')
  })

  it('costs the store one ping per 5 s however many pages are served, and sees it come back after that', async () => {
    const signInAvailability = await availability()
    store.ping.mockImplementation(refused)
    const answers = await Promise.all(Array.from({ length: 20 }, () => signInAvailability()))
    expect(answers.every(answer => !answer.available)).toBe(true)
    expect(store.ping).toHaveBeenCalledTimes(1)

    store.ping.mockResolvedValue(undefined)
    await vi.advanceTimersByTimeAsync(4_999)
    expect((await signInAvailability()).available).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(await signInAvailability()).toEqual({ available: true, store: 'Redis' })
    expect(store.ping).toHaveBeenCalledTimes(2)
  })
})
