import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { throttledLog } from '~/server/utils/throttled-log'

describe('an outage that fails every request stays readable in the server log', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('a reason repeated by a flood of requests is written once per interval, then with how many times it was held back', () => {
    const written: string[] = []
    const log = throttledLog(10_000, line => written.push(line))

    for (let request = 0; request < 500; request++) log('redis is down')
    expect(written).toEqual(['redis is down'])

    vi.advanceTimersByTime(9_999)
    log('redis is down')
    expect(written).toHaveLength(1)

    vi.advanceTimersByTime(1)
    log('redis is down')
    expect(written).toEqual(['redis is down', 'redis is down (500 more times since it was last logged)'])
  })

  it('each distinct reason gets its own line', () => {
    const written: string[] = []
    const log = throttledLog(10_000, line => written.push(line))
    log('redis is down')
    log('SESSION_STORE_TIMEOUT_MS must be a whole number')
    log('redis is down')
    expect(written).toEqual(['redis is down', 'SESSION_STORE_TIMEOUT_MS must be a whole number'])
  })

  it('remembers a bounded number of reasons, so endless distinct lines cannot fill the memory', () => {
    const written: string[] = []
    const log = throttledLog(10_000, line => written.push(line))
    for (let reason = 0; reason <= 100; reason++) log(`reason ${reason}`)
    log('reason 0')
    expect(written.at(-1)).toBe('reason 0')
    log('reason 100')
    expect(written).toHaveLength(102)
  })
})
