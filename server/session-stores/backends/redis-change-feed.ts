import { Cluster, type Redis } from 'ioredis'
import type { ChangeFeed } from '../session-backend'
import type { RedisClient } from './redis-connection'

export interface NearCacheSettings {
  /** REDIS_NEAR_CACHE_TTL_MS: the longest an opened session is served from memory, whatever the feed says. */
  ttlMs: number
  /** REDIS_NEAR_CACHE_MAX_ENTRIES: opened sessions one process keeps. */
  maxEntries: number
}

const CHANNEL = '__redis__:invalidate'
/** How often the feed checks that it tracks every master and that each tracking connection answers. */
const CHECK_EVERY_MS = 1000

interface Tracker {
  connection: Redis
  confirmed: boolean
}

/**
 * Redis's own report of every change to a session key (server-assisted client-side caching): on
 * each master, one connection of ours with `CLIENT TRACKING on REDIRECT <itself> BCAST PREFIX
 * <prefix>session:` subscribed to `__redis__:invalidate`. Redis sends it the name of every session
 * key written, deleted or expired there, by anyone. Reliable only while every master the command
 * client uses has a confirmed tracker that answered its last PING; any doubt (a lost or new
 * connection, a master it does not track yet, a flush) says "anything may have changed".
 */
export class RedisChangeFeed implements ChangeFeed {
  readonly ttlMs: number
  readonly maxEntries: number
  readonly #client: () => RedisClient | undefined
  readonly #sessionKeys: string
  readonly #timeoutMs: number
  readonly #listeners: Array<(id: string | undefined) => void> = []
  /** By the master's address. */
  readonly #trackers = new Map<string, Tracker>()
  #reliable = false
  #timer: NodeJS.Timeout | undefined
  #lastFailure: string | undefined
  /** Master → when to try tracking it again after failures (1 s, doubling up to a minute): a Redis that refuses CLIENT is not asked every second. */
  readonly #retryAt = new Map<string, { at: number, failures: number }>()

  constructor(client: () => RedisClient | undefined, keyPrefix: string, settings: NearCacheSettings, timeoutMs: number) {
    this.#client = client
    this.#sessionKeys = `${keyPrefix}session:`
    this.ttlMs = settings.ttlMs
    this.maxEntries = settings.maxEntries
    this.#timeoutMs = timeoutMs
  }

  get reliable(): boolean {
    if (!this.#timer) {
      this.#timer = setInterval(() => void this.#check(), CHECK_EVERY_MS).unref()
      void this.#check()
    }
    return this.#reliable
  }

  onChange(listener: (id: string | undefined) => void): void {
    this.#listeners.push(listener)
  }

  #emit(id: string | undefined): void {
    for (const listener of this.#listeners) listener(id)
  }

  /** The masters the command client talks to, by address: each Cluster master, or the one server (through Sentinel, the current master). */
  #masters(): Map<string, Redis> {
    const client = this.#client()
    if (!client || client.status !== 'ready') return new Map()
    if (client instanceof Cluster) return new Map(client.nodes('master').map(node => [`${node.options.host}:${node.options.port}`, node]))
    const address = client.stream?.remoteAddress
    return address ? new Map([[`${address}:${client.stream.remotePort}`, client]]) : new Map()
  }

  async #check(): Promise<void> {
    const masters = this.#masters()
    for (const [address, tracker] of this.#trackers) {
      if (!masters.has(address)) this.#lost(address, tracker)
    }
    for (const [address, node] of masters) {
      if (!this.#trackers.has(address) && Date.now() >= (this.#retryAt.get(address)?.at ?? 0)) this.#track(address, node)
    }
    await Promise.all([...this.#trackers].map(async ([address, tracker]) => {
      if (!tracker.confirmed) return
      const answered = await Promise.race([
        tracker.connection.ping().then(() => true, () => false),
        new Promise<false>(resolve => setTimeout(resolve, this.#timeoutMs, false).unref()),
      ])
      if (!answered) this.#lost(address, tracker)
    }))
    // The masters read again: the topology may have changed while the PINGs were out.
    this.#reliable = this.#tracksAll(this.#masters())
  }

  #tracksAll(masters: Map<string, Redis>): boolean {
    return masters.size > 0 && [...masters.keys()].every(address => this.#trackers.get(address)?.confirmed)
  }

  #track(address: string, node: Redis): void {
    const connection = node.duplicate({
      lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, autoResubscribe: false, connectTimeout: this.#timeoutMs, commandTimeout: this.#timeoutMs,
    })
    const tracker: Tracker = { connection, confirmed: false }
    this.#trackers.set(address, tracker)
    // The backend's own connection reports the outage; this one only stops the cache.
    connection.on('error', () => undefined)
    connection.on('close', () => this.#lost(address, tracker))
    connection.on('messageBuffer', (_channel: Buffer, keys: unknown) => {
      // A flush sends no key names: anything may have changed.
      if (!Array.isArray(keys)) return this.#emit(undefined)
      for (const key of keys as Buffer[]) {
        const name = key.toString()
        if (name.startsWith(this.#sessionKeys)) this.#emit(name.slice(this.#sessionKeys.length))
      }
    })
    const confirm = async () => {
      await connection.connect()
      // Through Sentinel the duplicate finds the master anew: it must be the one the command client uses.
      const own = `${connection.stream?.remoteAddress}:${connection.stream?.remotePort}`
      if (!(this.#client() instanceof Cluster) && own !== address) throw new Error(`reached ${own}, not ${address}`)
      const id = await connection.client('ID')
      await connection.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', String(id), 'BCAST', 'PREFIX', this.#sessionKeys)
      await connection.subscribe(CHANNEL)
      if (this.#trackers.get(address) !== tracker) return
      tracker.confirmed = true
      this.#lastFailure = undefined
      this.#retryAt.delete(address)
      // Changes made before the subscription was confirmed were not reported: no read begun earlier is kept.
      this.#emit(undefined)
      this.#reliable = this.#tracksAll(this.#masters())
    }
    confirm().catch((error: unknown) => {
      // Said once per reason: a Redis that refuses CLIENT TRACKING would say it every second.
      const reason = (error as Error).message
      if (reason !== this.#lastFailure) console.warn(`[session-store] near cache off for now: tracking at ${address} failed (${reason}); every read goes to Redis.`)
      this.#lastFailure = reason
      const failures = (this.#retryAt.get(address)?.failures ?? 0) + 1
      this.#retryAt.set(address, { at: Date.now() + Math.min(60_000, 1000 * 2 ** (failures - 1)), failures })
      this.#lost(address, tracker)
    })
  }

  #lost(address: string, tracker: Tracker): void {
    if (this.#trackers.get(address) !== tracker) return
    this.#trackers.delete(address)
    this.#reliable = false
    tracker.connection.disconnect()
    this.#emit(undefined)
  }

  async close(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#reliable = false
    for (const [address, tracker] of this.#trackers) this.#lost(address, tracker)
  }
}
