import { describe, expect, it } from 'vitest'
import { NearCache } from '~/server/session-stores/near-cache'
import type { ChangeFeed } from '~/server/session-stores/session-backend'

/** A change feed the test drives: whether it is reliable, and the changes it reports. */
function feed(ttlMs = 3000, maxEntries = 100) {
  const listeners: Array<(id: string | undefined) => void> = []
  const driven = {
    ttlMs, maxEntries, reliable: true,
    onChange: (listener: (id: string | undefined) => void) => void listeners.push(listener),
    close: async () => undefined,
    report: (id: string | undefined) => listeners.forEach(listener => listener(id)),
  }
  return driven satisfies ChangeFeed
}

function cacheWith(changes = feed()) {
  let now = 1_000_000
  const cache = new NearCache<{ name: string }>(changes, () => now)
  return { cache, changes, advance: (ms: number) => void (now += ms), now: () => now }
}

describe('the near cache of opened sessions', () => {
  it('keeps what a read got, until the feed reports a change of that id', () => {
    const { cache, changes, now } = cacheWith()
    cache.remember('a', cache.begin(), { name: 'alice' }, now() + 60_000)
    cache.remember('b', cache.begin(), { name: 'bob' }, now() + 60_000)
    expect(cache.get('a')).toEqual({ name: 'alice' })
    changes.report('a')
    expect(cache.get('a')).toBeUndefined()
    expect(cache.get('b')).toEqual({ name: 'bob' })
  })

  it('does not keep a read during which its id changed, or anything was lost', () => {
    const { cache, changes, now } = cacheWith()
    const ticket = cache.begin()
    changes.report('a')
    cache.remember('a', ticket, { name: 'stale alice' }, now() + 60_000)
    expect(cache.get('a')).toBeUndefined()
    const before = cache.begin()
    changes.report(undefined)
    cache.remember('b', before, { name: 'stale bob' }, now() + 60_000)
    expect(cache.get('b')).toBeUndefined()
    cache.remember('b', cache.begin(), { name: 'bob' }, now() + 60_000)
    expect(cache.get('b')).toEqual({ name: 'bob' })
  })

  it('serves nothing while the feed is not reliable, and drops all when it reports a gap', () => {
    const { cache, changes, now } = cacheWith()
    cache.remember('a', cache.begin(), { name: 'alice' }, now() + 60_000)
    changes.reliable = false
    expect(cache.get('a')).toBeUndefined()
    changes.reliable = true
    cache.remember('a', cache.begin(), { name: 'alice' }, now() + 60_000)
    changes.report(undefined)
    expect(cache.get('a')).toBeUndefined()
  })

  it('serves an entry for the feed\'s ttl at most, and never past the session\'s expiry', () => {
    const { cache, advance, now } = cacheWith(feed(3000))
    cache.remember('a', cache.begin(), { name: 'alice' }, now() + 60_000)
    cache.remember('b', cache.begin(), { name: 'bob' }, now() + 1000)
    advance(999)
    expect(cache.get('b')).toEqual({ name: 'bob' })
    advance(1)
    expect(cache.get('b')).toBeUndefined()
    advance(1999)
    expect(cache.get('a')).toEqual({ name: 'alice' })
    advance(1)
    expect(cache.get('a')).toBeUndefined()
  })

  it('hands out copies, and keeps at most maxEntries (the oldest go first)', () => {
    const { cache, now } = cacheWith(feed(3000, 2))
    for (const name of ['a', 'b', 'c']) cache.remember(name, cache.begin(), { name }, now() + 60_000)
    expect(cache.get('a')).toBeUndefined()
    const copy = cache.get('b')!
    copy.name = 'changed by the caller'
    expect(cache.get('b')).toEqual({ name: 'b' })
    expect(cache.size).toBe(2)
  })
})
