import type { ChangeFeed } from './session-backend'

/** Changes remembered per id, to tell whether one came in while a read was on its way; beyond it, reads begun earlier are not kept. */
const CHANGES_REMEMBERED = 10_000

/**
 * Opened sessions kept in this process (docs/near-cache.md): a hit costs no round trip. Trusted only
 * while the backend's change feed is reliable, for at most the feed's ttl, and never when the
 * session changed while it was being read. Hits are copies: a caller may change what it gets.
 */
export class NearCache<Value> {
  readonly #feed: ChangeFeed
  readonly #now: () => number
  readonly #entries = new Map<string, { value: Value, until: number }>()
  /** Counts changes; a read remembers the count it began at. */
  #sequence = 0
  /** Id → the count at its last change. */
  readonly #changed = new Map<string, number>()
  /** Reads begun at or before this count may have missed a change: they are not kept. */
  #floor = 0
  hits = 0
  misses = 0

  constructor(feed: ChangeFeed, now: () => number = Date.now) {
    this.#feed = feed
    this.#now = now
    feed.onChange(id => (id === undefined ? this.reset() : this.changed(id)))
  }

  /** A copy of the opened session, or undefined: none kept, too old, or the feed not reliable now. */
  get(id: string): Value | undefined {
    const entry = this.#entries.get(id)
    if (entry && this.#feed.reliable && this.#now() < entry.until) {
      this.hits += 1
      return structuredClone(entry.value)
    }
    if (entry) this.#entries.delete(id)
    this.misses += 1
    return undefined
  }

  /** Before reading from the backend: the ticket remember() takes. */
  begin(): number {
    return this.#sequence
  }

  /** Keeps what a read begun at `ticket` got, unless a change may have come in meanwhile; until `expiresAt` (ms) at the latest. */
  remember(id: string, ticket: number, value: Value, expiresAt: number): void {
    if (ticket < this.#floor || (this.#changed.get(id) ?? -1) > ticket || !this.#feed.reliable) return
    this.#entries.delete(id)
    this.#entries.set(id, { value: structuredClone(value), until: Math.min(this.#now() + this.#feed.ttlMs, expiresAt) })
    if (this.#entries.size > this.#feed.maxEntries) this.#entries.delete(this.#entries.keys().next().value!)
  }

  /** The session changed (here or anywhere): dropped, and a read on its way is not kept. */
  changed(id: string): void {
    this.#entries.delete(id)
    this.#changed.delete(id)
    this.#changed.set(id, ++this.#sequence)
    if (this.#changed.size > CHANGES_REMEMBERED) {
      const [oldest, at] = this.#changed.entries().next().value!
      this.#changed.delete(oldest)
      this.#floor = Math.max(this.#floor, at)
    }
  }

  /** Anything may have changed: everything dropped, and no read on its way is kept. */
  reset(): void {
    this.#entries.clear()
    this.#changed.clear()
    this.#floor = ++this.#sequence
  }

  get size(): number {
    return this.#entries.size
  }
}
