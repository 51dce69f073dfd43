import calculateSlot from 'cluster-key-slot'
import { Cluster, type Redis } from 'ioredis'
import { RateLimiterRedis } from 'rate-limiter-flexible'
import {
  defineBackend, TOMBSTONE_SECONDS, type BackendLimits, type ExportedEntry, type ImportOutcome, type RateLimit, type SessionBackend, type SessionRecord, type StoredSession,
} from '../session-backend'
import type { LogoutMatch } from '../session-index'
import { nowInSeconds } from '../session-expiry'
import { RedisChangeFeed } from './redis-change-feed'
import { DEFAULT_REDIS_URL, infoFields, masters, openRedis, readRedisSettings, type RedisClient, type RedisSettings } from './redis-connection'

// Keys: <prefix>session:<id> is a hash { p: sealed payload, e: expires at (s), c: first stored (ms, Redis clock),
// s: sid keys, u: sub key, i: iss key, x: its indexes last until (s, Redis clock) }, or a tombstone { t: 1 }
// once the session ended, or { c, s, u, i } alone while its first write indexes it (pending);
// <prefix>index:sid:<hash> a set of ids; <prefix>index:sub:<hash> a sorted set of ids by creation time;
// <prefix>once:<key> a marker that recordOnce() set; <prefix>rate:<name>:<client> rate-limiter-flexible's counters.
//
// Every script and command touches one key (Redis Cluster: no two keys need to share a slot, so the
// keys spread over every master). What one script did atomically before is an ordering now
// (docs/decisions/004-redis-cluster.md): an id enters its indexes before it is written live, and
// leaves them only once it is ended, gone, or written with other keys. A revoke walks the index and
// tombstones each matching id on its own node; a write refuses a tombstone. So a session a revoke
// did not end was not live, with those keys, when the revoke read the index.

const SESSION_HELPERS = `
local function has(text, word)
  return word == '' or string.find(' ' .. (text or '') .. ' ', ' ' .. word .. ' ', 1, true) ~= nil
end
local function now()
  local time = redis.call('TIME')
  return tonumber(time[1]), time[1] .. string.format('%03d', math.floor(tonumber(time[2]) / 1000))
end
-- Ends the session: a tombstone in its place refuses a write still in flight. Returns the keys it was indexed under.
local function endSession(key, tombstoneSeconds)
  local fields = redis.call('HMGET', key, 's', 'u')
  redis.call('DEL', key)
  redis.call('HSET', key, 't', '1')
  redis.call('EXPIRE', key, tombstoneSeconds)
  return { fields[1] or '', fields[2] or '' }
end
`

// KEYS: session. ARGV: sealed, ttl, sid keys, sub key, iss key, indexes' ttl ('' until the caller indexed it), pending ttl, expiresAt.
// Returns { 0 } for a tombstone (nothing written), { 1 } when written, or
// { 2, createdAt } when the caller must index it first (a new id, other keys, or indexes that end
// before it would): then a new id is left pending, so that a revoke walking the index meanwhile ends it.
const WRITE = `${SESSION_HELPERS}
local key = KEYS[1]
local sealed, ttl, sids, sub, iss, indexTtl = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local current = redis.call('HMGET', key, 't', 'c', 's', 'u', 'x', 'p')
if current[1] then return { 0 } end
local seconds, createdAt = now()
createdAt = current[2] or createdAt
if indexTtl ~= '' then
  redis.call('HSET', key, 'p', sealed, 'e', ARGV[8], 'c', createdAt, 's', sids, 'u', sub, 'i', iss, 'x', seconds + tonumber(indexTtl) - 60)
  redis.call('EXPIRE', key, ttl)
  return { 1 }
end
if current[6] and current[3] == sids and current[4] == sub and tonumber(current[5] or 0) >= seconds + ttl then
  redis.call('HSET', key, 'p', sealed, 'e', ARGV[8], 'i', iss)
  redis.call('EXPIRE', key, ttl)
  return { 1 }
end
if sids == '' and sub == '' then
  redis.call('HSET', key, 'p', sealed, 'e', ARGV[8], 'c', createdAt, 's', sids, 'u', sub, 'i', iss)
  redis.call('EXPIRE', key, ttl)
  return { 1 }
end
if not current[6] then
  redis.call('HSET', key, 'c', createdAt, 's', sids, 'u', sub, 'i', iss)
  redis.call('EXPIRE', key, tonumber(ARGV[7]))
end
return { 2, createdAt }
`

// KEYS: an index. ARGV: id, score ('' for a sid's set), ttl, cap (0: none). Adds the id and keeps the index
// at least ttl. With a cap, returns how many ids the user's index holds beyond it, then its oldest ones: twice
// the excess and 10 more (some may be pending, or this id), never more than the cap.
const INDEX = `
local index, id, score, ttl, cap = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
if score == '' then redis.call('SADD', index, id) else redis.call('ZADD', index, score, id) end
if redis.call('TTL', index) < ttl then redis.call('EXPIRE', index, ttl) end
if cap == 0 then return {} end
local excess = redis.call('ZCARD', index) - cap
if excess <= 0 then return {} end
local oldest = redis.call('ZRANGE', index, 0, math.min(cap, excess * 2 + 10) - 1)
table.insert(oldest, 1, tostring(excess))
return oldest
`

// KEYS: session. ARGV: tombstone ttl. Returns the keys it was indexed under.
const REMOVE = `${SESSION_HELPERS}
return endSession(KEYS[1], tonumber(ARGV[1]))
`

// KEYS: session. ARGV: sid key, sub key, iss key ('' when absent: any), created up to (ms, '' for any), tombstone ttl,
// '1' to leave a pending id alone (the per-user cap). Ends it when it matches: { 1 } a live session, { 2 } a pending
// one (its first write will be refused); { 3 } kept (other keys, newer, or pending and left alone), { 0 } gone
// (expired or ended: the caller drops it from the index).
const REVOKE_ONE = `${SESSION_HELPERS}
local key = KEYS[1]
local sid, sub, iss, createdUpTo = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local fields = redis.call('HMGET', key, 'p', 's', 'u', 'i', 'c', 't')
if fields[6] or not fields[5] then return { 0 } end
if not fields[1] and ARGV[6] == '1' then return { 3 } end
if has(fields[2], sid) and has(fields[3], sub) and has(fields[4], iss) and (createdUpTo == '' or tonumber(fields[5]) <= tonumber(createdUpTo)) then
  endSession(key, tonumber(ARGV[5]))
  return { fields[1] and 1 or 2, fields[2] or '', fields[3] or '' }
end
return { 3 }
`

// KEYS: session. ARGV: createdAt (ms), sid keys, sub key, iss key, pending ttl. The first step of importing a
// session exported by another backend: 'tombstoned' or 'present' (a live or pending id wins), else it is
// left pending with its createdAt and the caller indexes it, then writes it (WRITE with the indexes' ttl).
const IMPORT_SESSION = `
local key = KEYS[1]
local current = redis.call('HMGET', key, 't', 'c')
if current[1] then return 'tombstoned' end
if current[2] then return 'present' end
redis.call('HSET', key, 'c', ARGV[1], 's', ARGV[2], 'u', ARGV[3], 'i', ARGV[4])
redis.call('EXPIRE', key, tonumber(ARGV[5]))
return 'pending'
`

// KEYS: session. Deletes it only while it is pending: an import that gave up must not delete what a write or a logout put there since.
const DROP_PENDING = `
if redis.call('HEXISTS', KEYS[1], 'p') == 0 and redis.call('HEXISTS', KEYS[1], 't') == 0 then return redis.call('DEL', KEYS[1]) end
return 0
`

// KEYS: session. ARGV: remaining ms, tombstone ttl. A tombstone exported by another backend; ending a live
// session gives it a whole tombstone ttl, as remove() does. Returns { outcome, sid keys, sub key }.
const IMPORT_TOMBSTONE = `${SESSION_HELPERS}
local key = KEYS[1]
local current = redis.call('HMGET', key, 't', 'p')
if current[1] then return { 'present' } end
if current[2] then
  local keys = endSession(key, tonumber(ARGV[2]))
  return { 'ended', keys[1], keys[2] }
end
redis.call('DEL', key)
redis.call('HSET', key, 't', '1')
redis.call('PEXPIRE', key, ARGV[1])
return { 'copied' }
`

/** The scripts by the name they are called by (the bench names a slow one by its hash). Each takes one key. */
export const SCRIPTS = {
  writeSession: WRITE, indexSession: INDEX, removeSession: REMOVE, revokeSession: REVOKE_ONE, importSession: IMPORT_SESSION, dropPending: DROP_PENDING, importTombstone: IMPORT_TOMBSTONE,
}

type WriteReply = [0] | [1] | [2, string]
type RevokeReply = [0 | 3] | [1 | 2, string, string]

interface SessionScripts {
  writeSession(key: string, sealed: Buffer, ttl: number, sids: string, sub: string, iss: string, indexTtl: number | '', pendingTtl: number, expiresAt: number): Promise<WriteReply>
  indexSession(key: string, id: string, score: string, ttl: number, cap: number): Promise<string[]>
  removeSession(key: string, tombstoneSeconds: number): Promise<[string, string]>
  revokeSession(key: string, sid: string, sub: string, iss: string, createdUpTo: string, tombstoneSeconds: number, liveOnly: '1' | ''): Promise<RevokeReply>
  importSession(key: string, createdAt: number, sids: string, sub: string, iss: string, pendingTtl: number): Promise<'tombstoned' | 'present' | 'pending'>
  dropPending(key: string): Promise<number>
  importTombstone(key: string, remainingMs: number, tombstoneSeconds: number): Promise<[ImportOutcome, string?, string?]>
}

type Client = RedisClient & SessionScripts

/** Ids one revoke or list step walks at most: a few ms of Redis's time at 100 (bench: faults). */
const BATCH = 100
/** How long a new id stays pending while its first write indexes it: far beyond any deadline. */
const PENDING_SECONDS = 60
/** Indexes outlive the session they were extended for by this much, so that its next writes for an hour need no index work. */
const INDEX_SLACK_SECONDS = 3600

// Policies under which Redis deletes keys it was not asked to: a tombstone evicted is a session resurrected.
const EVICTING = /^(allkeys|volatile)-/

/** Redis servers already warned about, so that a warning is said once per process, not per connection. */
const warned = new Set<string>()

function warnOnce(about: string, message: string): void {
  if (warned.has(about)) return
  warned.add(about)
  console.warn(message)
}

const words = (text: string | undefined): string[] => text ? text.split(' ').filter(Boolean) : []

export class RedisBackend implements SessionBackend {
  readonly location: string
  readonly changes?: RedisChangeFeed
  readonly #settings: RedisSettings
  readonly #limits: BackendLimits
  #client: Client | undefined
  /** Index entries and tombstones, each followed by a WAIT there, when replicas are waited for: a WAIT never holds up the reads on #client. */
  #durable: Client | undefined
  #connectionError: string | undefined
  #connectionGist: string | undefined
  /** Checked after every (re)connect: why this Redis must not keep sessions, or undefined. */
  #verified: Promise<string | undefined> | undefined
  /** Each client's first connection attempt, shared by the calls that wait for it. */
  readonly #connecting = new Map<Client, Promise<void>>()
  /** Master → until when nothing is waited for there, after a WAIT there timed out (ms). */
  readonly #replicasLateUntil = new Map<string, number>()
  /** Master → the WAIT running there, and the one queued after it that every call arriving meanwhile shares. */
  readonly #waitRunning = new Map<string, Promise<number>>()
  readonly #waitQueued = new Map<string, Promise<number>>()
  /** Redis refused WAIT (an ACL without @connection): nothing is waited for. */
  #waitRefused = false

  constructor(settings: RedisSettings, limits: BackendLimits) {
    this.#settings = settings
    this.#limits = limits
    this.location = settings.location
    if (settings.nearCache) this.changes = new RedisChangeFeed(() => this.#client, settings.keyPrefix, settings.nearCache, limits.timeoutMs)
  }

  #sessionKey(id: string): string {
    return `${this.#settings.keyPrefix}session:${id}`
  }

  #indexKey(key: string): string {
    return `${this.#settings.keyPrefix}index:${key}`
  }

  /** Connects on first use; reconnects by itself. Commands never wait for a connection that is down. */
  #connect(): Client {
    const client = openRedis(this.#settings, {
      lazyConnect: true,
      connectTimeout: this.#limits.timeoutMs,
      commandTimeout: this.#limits.timeoutMs,
      // A command issued while the connection is lost fails at the next reconnect attempt, not after several.
      maxRetriesPerRequest: 0,
      keepAlive: 10_000,
      retryStrategy: attempt => Math.min(attempt * 100, 1000),
    })
    client.on('error', (error: Error) => {
      // ioredis reports every reconnect attempt; say it once per distinct error (its retry delays aside).
      const gist = error.message.replace(/\d+ ?ms/g, 'N ms')
      if (gist !== this.#connectionGist) console.error(`[session-store] redis at ${this.location}: ${error.message}`)
      this.#connectionGist = gist
      this.#connectionError = error.message
    })
    client.on('ready', () => {
      this.#connectionError = undefined
      this.#connectionGist = undefined
      this.#verified = undefined
    })
    for (const [name, lua] of Object.entries(SCRIPTS)) client.defineCommand(name, { numberOfKeys: 1, lua })
    return client as Client
  }

  /**
   * Refuses a Redis that would lose sessions: an evicting `maxmemory-policy` on any master drops
   * tombstones and live sessions alike. No persistence is only a warning: a restart signs everybody out.
   */
  async #verify(client: Client): Promise<string | undefined> {
    for (const node of masters(client)) {
      const info = infoFields(await node.info())
      const policy = info.maxmemory_policy
      if (policy && EVICTING.test(policy)) {
        return `its maxmemory-policy is "${policy}", which evicts keys: ended sessions would come back and live ones vanish. `
          + 'Set maxmemory-policy noeviction (redis.conf, or CONFIG SET maxmemory-policy noeviction)'
      }
      const save = await node.config('GET', 'save').then(reply => (reply as string[])[1], () => undefined)
      if (info.aof_enabled === '0' && save === '') {
        warnOnce(`${this.location} persistence`, `[session-store] WARNING: redis at ${this.location} has no persistence (appendonly no, save ""): `
          + 'a restart of Redis signs every user out. Turn on appendonly yes for production.')
      }
    }
    return undefined
  }

  async #redis(): Promise<Client> {
    const client = this.#client ??= this.#connect()
    await this.#connected(client)
    this.#verified ??= this.#verify(client).catch((error: unknown) => {
      this.#verified = undefined
      throw error
    })
    const unsafe = await this.#verified
    if (unsafe) throw new Error(unsafe)
    return client
  }

  /** Fails at once while the connection is down; connects a new client first (on a Cluster, the masters are known only then). */
  async #connected(client: Client): Promise<void> {
    if (client.status === 'reconnecting' || client.status === 'close') {
      throw new Error(`no connection (${this.#connectionError ?? 'the connection was lost'})`)
    }
    if (client.status === 'wait') {
      const connecting = this.#connecting.get(client) ?? client.connect().finally(() => this.#connecting.delete(client))
      this.#connecting.set(client, connecting)
      await connecting
    }
  }

  /** Runs a command; when ioredis gives up for want of a connection, says why it had none. */
  async #run<T>(command: (redis: Client) => Promise<T>): Promise<T> {
    try {
      return await command(await this.#redis())
    }
    catch (error) {
      if (error instanceof Error && error.name === 'MaxRetriesPerRequestError') {
        throw new Error(`no connection (${this.#connectionError ?? 'the connection was lost'})`, { cause: error })
      }
      throw error
    }
  }

  /**
   * Writes what must survive a failover (a tombstone, an index entry) and, with replicas configured,
   * waits until one holds it too: a master that dies right after cannot hand an ended session back,
   * nor lose the index a logout needs. The script is sent alone (a Cluster follows MOVED and ASK for
   * it), on connections of its own, so that WAIT, which holds up its connection, never delays reads.
   * When no replica answers in time the write still counts (the master has it): waiting stops on
   * that master for a while, with a warning, rather than failing every logout while it has no replica.
   */
  async #durably<T>(redis: Client, key: string, write: (client: Client) => Promise<T>): Promise<T> {
    const replicas = this.#waitRefused ? 0 : this.#settings.waitForReplicas
    const client = replicas ? this.#durable ??= this.#connect() : redis
    await this.#connected(client)
    const reply = await write(client)
    if (!replicas) return reply
    const master = client instanceof Cluster ? client.slots[calculateSlot(key)]?.[0] ?? '' : ''
    const node = client instanceof Cluster ? client.nodes('master').find(each => `${each.options.host}:${each.options.port}` === master) : client
    if (!node || Date.now() < (this.#replicasLateUntil.get(master) ?? 0)) return reply
    if (await this.#replicated(master, node, replicas) < replicas && !this.#waitRefused) {
      this.#replicasLateUntil.set(master, Date.now() + 10_000)
      const where = `${this.location}${master && ` (master ${master})`}`
      warnOnce(`${where} replicas`, `[session-store] WARNING: redis at ${where}: fewer than ${replicas} replica(s) confirmed `
        + 'an ended session or an index entry in time. Until they do, a failover could bring a session back. (REDIS_WAIT_FOR_REPLICAS)')
    }
    return reply
  }

  /**
   * WAIT on the master's connection, at most one running per master: the calls that arrive while one
   * runs share the next, which covers every write sent before it.
   */
  #replicated(master: string, node: Redis, replicas: number): Promise<number> {
    const queued = this.#waitQueued.get(master)
    if (queued) return queued
    const next = (this.#waitRunning.get(master) ?? Promise.resolve(0)).then(() => {
      this.#waitQueued.delete(master)
      const running = (node.wait(replicas, Math.max(10, Math.floor(this.#limits.timeoutMs / 4))) as Promise<number>).catch((error: Error) => {
        if (/NOPERM|unknown command/i.test(error.message)) {
          this.#waitRefused = true
          warnOnce(`${this.location} wait`, `[session-store] WARNING: redis at ${this.location} refuses WAIT (${error.message}): `
            + 'ended sessions are not confirmed on a replica. Allow the @connection commands to this user, or set REDIS_WAIT_FOR_REPLICAS=0.')
        }
        return 0
      })
      this.#waitRunning.set(master, running)
      void running.then(() => this.#waitRunning.get(master) === running && this.#waitRunning.delete(master))
      return running
    })
    this.#waitQueued.set(master, next)
    return next
  }

  /** Drops an id from the indexes it is no longer under; stale entries are harmless (every walk checks the session), so a failure is ignored. */
  #unindex(redis: Client, id: string, sids: string[], sub: string): Promise<unknown> {
    return Promise.all([
      ...sids.map(sid => redis.srem(this.#indexKey(sid), id)),
      ...(sub ? [redis.zrem(this.#indexKey(sub), id)] : []),
    ]).catch(() => undefined)
  }

  /**
   * One script when the session is already indexed long enough under the same keys (every refresh
   * for an hour); otherwise the indexes first, then the session, then the user's cap.
   */
  async write(record: SessionRecord): Promise<boolean> {
    const ttl = Math.max(1, record.expiresAt - nowInSeconds())
    const { sids, sub = '', iss = '' } = record.keys
    const key = this.#sessionKey(record.id)
    const sidText = sids.join(' ')
    return this.#run(async (redis) => {
      const reply = await redis.writeSession(key, record.sealed, ttl, sidText, sub, iss, '', PENDING_SECONDS, record.expiresAt)
      if (reply[0] === 0) return false
      if (reply[0] === 1) return true
      return this.#indexThenWrite(redis, record, reply[1], ttl)
    })
  }

  /**
   * The write of a new id, of other keys, or of indexes that would end first (and an import's):
   * the id into its indexes, then the session (refused on a tombstone), then the user's cap. Keys it
   * is no longer written under keep their entries until those expire: dropping them could race a
   * write of the same id that brought them back, and every walk checks the session's own keys.
   */
  async #indexThenWrite(redis: Client, record: SessionRecord, createdAt: string, ttl: number): Promise<boolean> {
    const { sids, sub = '', iss = '' } = record.keys
    const indexTtl = ttl + INDEX_SLACK_SECONDS
    const oldest = await this.#index(redis, record.id, record.keys, createdAt, indexTtl)
    const written = await redis.writeSession(this.#sessionKey(record.id), record.sealed, ttl, sids.join(' '), sub, iss, indexTtl, PENDING_SECONDS, record.expiresAt)
    if (written[0] !== 1) return false
    if (oldest) await this.#endOldest(redis, sub, record.id, oldest)
    return true
  }

  /** Puts the id in its indexes (all at once, each on its own node, each confirmed on a replica); returns the user's cap overflow, if any. */
  async #index(redis: Client, id: string, keys: SessionRecord['keys'], createdAt: string, ttl: number): Promise<string[] | undefined> {
    const cap = this.#limits.maxSessionsPerUser
    const index = (key: string, score: string, limit: number) => this.#durably(redis, key, client => client.indexSession(key, id, score, ttl, limit))
    const [overflow] = await Promise.all([
      keys.sub ? index(this.#indexKey(keys.sub), createdAt, cap) : Promise.resolve([]),
      ...keys.sids.map(sid => index(this.#indexKey(sid), '', 0)),
    ])
    return overflow.length ? overflow : undefined
  }

  /**
   * The user holds more than the cap: ends the oldest live sessions (never `id`), dropping ids that
   * expired on the way, walking at most the cap. `overflow` is INDEX's reply: the excess, then the oldest ids.
   */
  async #endOldest(redis: Client, subKey: string, id: string, overflow: string[]): Promise<void> {
    let excess = Number(overflow[0])
    for (const old of overflow.slice(1)) {
      if (excess <= 0) return
      if (old === id) continue
      const key = this.#sessionKey(old)
      const [status, sids, sub] = await this.#durably(redis, key, client => client.revokeSession(key, '', '', '', '', TOMBSTONE_SECONDS, '1'))
      if (status === 3) continue
      excess -= 1
      await Promise.all([redis.zrem(this.#indexKey(subKey), old), status === 1 && this.#unindex(redis, old, words(sids), sub === subKey ? '' : sub ?? '')])
    }
  }

  async read(id: string): Promise<StoredSession | undefined> {
    const [sealed, expiresAt, createdAt] = await this.#run(redis => redis.hmgetBuffer(this.#sessionKey(id), 'p', 'e', 'c'))
    if (!sealed || !expiresAt || !createdAt) return undefined
    return { id, sealed, expiresAt: Number(expiresAt.toString()), createdAt: Number(createdAt.toString()) }
  }

  async remove(id: string): Promise<void> {
    await this.#run(async (redis) => {
      const key = this.#sessionKey(id)
      const [sids, sub] = await this.#durably(redis, key, client => client.removeSession(key, TOMBSTONE_SECONDS))
      void this.#unindex(redis, id, words(sids), sub)
    })
  }

  /**
   * Walks the sid's set (one IdP session's app sessions), or the user's sorted set in batches of the
   * oldest created up to the bound, ending each match on its own node; ids found gone or ended leave the index.
   */
  async revoke(match: LogoutMatch, createdUpTo: number | undefined): Promise<number> {
    const bound = createdUpTo === undefined ? '' : String(createdUpTo)
    const limit = Math.min(this.#limits.maxSessionsPerUser, BATCH)
    return this.#run(async (redis) => {
      if (match.sid) {
        const index = this.#indexKey(match.sid)
        const { ended, left } = await this.#revokeEach(redis, await redis.smembers(index), match, bound)
        if (left.length) await redis.srem(index, ...left)
        return ended
      }
      const index = this.#indexKey(match.sub!)
      let ended = 0
      let offset = 0
      for (;;) {
        const ids = await redis.zrangebyscore(index, '-inf', bound || '+inf', 'LIMIT', offset, limit)
        const batch = await this.#revokeEach(redis, ids, match, bound)
        if (batch.left.length) await redis.zrem(index, ...batch.left)
        ended += batch.ended
        offset += ids.length - batch.left.length
        if (ids.length < limit) return ended
      }
    })
  }

  async #revokeEach(redis: Client, ids: string[], match: LogoutMatch, bound: string): Promise<{ ended: number, left: string[] }> {
    const replies = await Promise.all(ids.map((id) => {
      const key = this.#sessionKey(id)
      return this.#durably(redis, key, client => client.revokeSession(key, match.sid ?? '', match.sub ?? '', match.iss ?? '', bound, TOMBSTONE_SECONDS, ''))
    }))
    const left: string[] = []
    let ended = 0
    replies.forEach(([status, sids, sub], index) => {
      if (status === 3) return
      left.push(ids[index]!)
      if (status === 1) ended += 1
      if (status === 1 || status === 2) void this.#unindex(redis, ids[index]!, words(sids).filter(sid => sid !== match.sid), sub === match.sub ? '' : sub ?? '')
    })
    return { ended, left }
  }

  /** Newest first, in batches, up to the per-user cap; ids found expired or ended leave the index. */
  async listByUser(subKey: string): Promise<StoredSession[]> {
    const cap = this.#limits.maxSessionsPerUser
    const index = this.#indexKey(subKey)
    return this.#run(async (redis) => {
      const sessions: StoredSession[] = []
      let offset = 0
      for (;;) {
        const limit = Math.min(cap - sessions.length, BATCH)
        const ids = await redis.zrevrange(index, offset, offset + limit - 1)
        const records = await Promise.all(ids.map(id => redis.hmgetBuffer(this.#sessionKey(id), 'p', 'e', 'c', 't')))
        const gone: string[] = []
        records.forEach(([sealed, expiresAt, createdAt, tombstone], position) => {
          const id = ids[position]!
          if (tombstone || !createdAt) gone.push(id)
          else if (sealed && expiresAt) sessions.push({ id, sealed, expiresAt: Number(expiresAt.toString()), createdAt: Number(createdAt.toString()) })
        })
        if (gone.length) await redis.zrem(index, ...gone)
        if (ids.length < limit || sessions.length >= cap) return sessions
        offset += ids.length - gone.length
      }
    })
  }

  async recordOnce(key: string, seconds: number): Promise<boolean> {
    const set = await this.#run(redis => redis.set(`${this.#settings.keyPrefix}once:${key}`, '1', 'EX', seconds, 'NX'))
    return set === 'OK'
  }

  /** On this backend's connection; while Redis is not ready it does not wait, and the insurance limiter counts. */
  rateLimiter(limit: RateLimit): RateLimiterRedis {
    this.#client ??= this.#connect()
    return new RateLimiterRedis({ ...limit, storeClient: this.#client, keyPrefix: `${this.#settings.keyPrefix}rate:${limit.keyPrefix}`, rejectIfRedisNotReady: true })
  }

  /** Redis expires sessions itself (EXPIRE on every write). */
  async prune(): Promise<number> {
    return 0
  }

  /** On a Cluster, also that every slot is served: a master down with no replica to take over is an outage. */
  async ping(): Promise<void> {
    await this.#run(async (redis) => {
      if (this.#settings.topology.kind !== 'cluster') return redis.ping()
      const state = infoFields(await redis.cluster('INFO') as string).cluster_state
      if (state !== 'ok') throw new Error(`the cluster's state is "${state}": some slots have no master`)
    })
  }

  /** SCAN over the sessions, then the once-keys, on every master; each batch read in one pipeline (HMGET, PTTL). */
  async* exportAll(batchSize: number): AsyncIterable<ExportedEntry[]> {
    const prefix = this.#settings.keyPrefix
    for await (const [node, keys] of this.#scan('session:', batchSize)) {
      const pipeline = node.pipeline()
      for (const key of keys) pipeline.hmgetBuffer(key, 'p', 'e', 'c', 's', 'u', 'i', 't').pttl(key)
      const replies = await pipeline.exec() ?? []
      const entries: ExportedEntry[] = []
      keys.forEach((key, index) => {
        const [fieldsError, fields] = replies[index * 2]!
        const [ttlError, remainingMs] = replies[index * 2 + 1]!
        if (fieldsError ?? ttlError) throw fieldsError ?? ttlError
        const [sealed, expiresAt, createdAt, sids, sub, iss, tombstone] = fields as Array<Buffer | null>
        const id = key.slice(`${prefix}session:`.length)
        if (sealed && expiresAt && createdAt) {
          entries.push({
            kind: 'session', id, sealed, expiresAt: Number(expiresAt.toString()), createdAt: Number(createdAt.toString()),
            keys: { sids: words(sids?.toString()), sub: sub?.toString() || undefined, iss: iss?.toString() || undefined },
          })
        }
        else if (tombstone && (remainingMs as number) > 0) {
          entries.push({ kind: 'tombstone', id, remainingMs: remainingMs as number })
        }
      })
      if (entries.length) yield entries
    }
    for await (const [node, keys] of this.#scan('once:', batchSize)) {
      const pipeline = node.pipeline()
      for (const key of keys) pipeline.pttl(key)
      const replies = await pipeline.exec() ?? []
      const entries = keys.flatMap((key, index): ExportedEntry[] => {
        const [error, remainingMs] = replies[index]!
        if (error) throw error
        return (remainingMs as number) > 0 ? [{ kind: 'once', key: key.slice(`${prefix}once:`.length), remainingMs: remainingMs as number }] : []
      })
      if (entries.length) yield entries
    }
  }

  /**
   * The keys under `<prefix><kind>` on each master, in batches, with the master's own connection (a
   * batch's keys are in many slots of that master). SCAN's COUNT is a hint: a batch may be smaller,
   * or empty and skipped.
   */
  async* #scan(kind: string, batchSize: number): AsyncIterable<[Redis, string[]]> {
    const match = `${this.#settings.keyPrefix}${kind}`.replace(/[*?[\]\\]/g, '\\$&')
    for (const node of masters(await this.#redis())) {
      for await (const keys of node.scanStream({ match: `${match}*`, count: batchSize }) as AsyncIterable<string[]>) {
        if (keys.length) yield [node, keys]
      }
    }
  }

  /**
   * One entry after another, each as its own kind of write does it: a session pending, then indexed,
   * then written (a live or pending id there wins); a tombstone ends a live session of its id.
   */
  async importEntries(entries: ExportedEntry[]): Promise<ImportOutcome[]> {
    const outcomes: ImportOutcome[] = []
    for (const entry of entries) outcomes.push(await this.#run(redis => this.#import(redis, entry)))
    return outcomes
  }

  async #import(redis: Client, entry: ExportedEntry): Promise<ImportOutcome> {
    if (entry.kind === 'once') {
      return await redis.set(`${this.#settings.keyPrefix}once:${entry.key}`, '1', 'PX', Math.ceil(entry.remainingMs), 'NX') === 'OK' ? 'copied' : 'present'
    }
    const key = this.#sessionKey(entry.id)
    if (entry.kind === 'tombstone') {
      const [outcome, sids, sub] = await this.#durably(redis, key, client => client.importTombstone(key, Math.ceil(entry.remainingMs), TOMBSTONE_SECONDS))
      if (outcome === 'ended') void this.#unindex(redis, entry.id, words(sids), sub ?? '')
      return outcome
    }
    const { sids, sub = '', iss = '' } = entry.keys
    const begun = await redis.importSession(key, entry.createdAt, sids.join(' '), sub, iss, PENDING_SECONDS)
    if (begun !== 'pending') return begun
    if (sub && await this.#liveNewerThan(redis, sub, entry.createdAt) >= this.#limits.maxSessionsPerUser) {
      await redis.dropPending(key)
      return 'over-cap'
    }
    const written = await this.#indexThenWrite(redis, entry, String(entry.createdAt), Math.max(1, entry.expiresAt - nowInSeconds()))
    return written ? 'copied' : 'tombstoned'
  }

  /** How many of the user's live sessions were created after `createdAt`, counting up to the cap. */
  async #liveNewerThan(redis: Client, subKey: string, createdAt: number): Promise<number> {
    const ids = await redis.zrangebyscore(this.#indexKey(subKey), `(${createdAt}`, '+inf', 'LIMIT', 0, this.#limits.maxSessionsPerUser)
    const live = await Promise.all(ids.map(id => redis.hexists(this.#sessionKey(id), 'p')))
    return live.filter(Boolean).length
  }

  /** SCAN and UNLINK in batches on every master, a key at a time (no two keys need share a slot): no KEYS, no FLUSHDB. */
  async drop(): Promise<void> {
    for await (const [node, keys] of this.#scan('', 1000)) {
      const pipeline = node.pipeline()
      for (const key of keys) pipeline.unlink(key)
      await pipeline.exec()
    }
  }

  async close(): Promise<void> {
    await this.changes?.close()
    const clients = [this.#client, this.#durable]
    this.#client = undefined
    this.#durable = undefined
    this.#verified = undefined
    await Promise.all(clients.map(client => client?.quit().catch(() => client.disconnect())))
  }
}

export default defineBackend({
  name: 'redis',
  settings: readRedisSettings,
  defaultLocation: DEFAULT_REDIS_URL,
  startHint: 'Start it with `docker compose up -d redis`, or check REDIS_URL (REDIS_CLUSTER_NODES, REDIS_SENTINELS).',
  create: (settings, limits) => new RedisBackend(settings, limits),
})
