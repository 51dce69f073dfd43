import calculateSlot from 'cluster-key-slot'
import { Cluster, type ChainableCommander, type Redis } from 'ioredis'
import { RateLimiterRedis } from 'rate-limiter-flexible'
import {
  defineBackend, TOMBSTONE_SECONDS, type BackendLimits, type ExportedEntry, type ImportOutcome, type RateLimit, type SessionBackend, type SessionRecord, type StoredSession,
} from '../session-backend'
import type { LogoutMatch } from '../session-index'
import { nowInSeconds } from '../session-expiry'
import { RedisChangeFeed } from './redis-change-feed'
import { DEFAULT_REDIS_URL, masters, openRedis, readRedisSettings, type RedisClient, type RedisSettings } from './redis-connection'

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
// Returns { 0 } for a tombstone (nothing written), { 1, old sid keys, old sub key } when written, or
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
  return { 1, current[3] or '', current[4] or '' }
end
if current[6] and current[3] == sids and current[4] == sub and tonumber(current[5] or 0) >= seconds + ttl then
  redis.call('HSET', key, 'p', sealed, 'e', ARGV[8], 'i', iss)
  redis.call('EXPIRE', key, ttl)
  return { 1, sids, sub }
end
if sids == '' and sub == '' then
  redis.call('HSET', key, 'p', sealed, 'e', ARGV[8], 'c', createdAt, 's', sids, 'u', sub, 'i', iss)
  redis.call('EXPIRE', key, ttl)
  return { 1, current[3] or '', current[4] or '' }
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
  writeSession: WRITE, indexSession: INDEX, removeSession: REMOVE, revokeSession: REVOKE_ONE, importSession: IMPORT_SESSION, importTombstone: IMPORT_TOMBSTONE,
}

type WriteReply = [0] | [1, string, string] | [2, string]
type RevokeReply = [0 | 3] | [1 | 2, string, string]

interface SessionScripts {
  writeSession(key: string, sealed: Buffer, ttl: number, sids: string, sub: string, iss: string, indexTtl: number | '', pendingTtl: number, expiresAt: number): Promise<WriteReply>
  indexSession(key: string, id: string, score: string, ttl: number, cap: number): Promise<string[]>
  removeSession(key: string, tombstoneSeconds: number): Promise<[string, string]>
  revokeSession(key: string, sid: string, sub: string, iss: string, createdUpTo: string, tombstoneSeconds: number, liveOnly: '1' | ''): Promise<RevokeReply>
  importSession(key: string, createdAt: number, sids: string, sub: string, iss: string, pendingTtl: number): Promise<'tombstoned' | 'present' | 'pending'>
  importTombstone(key: string, remainingMs: number, tombstoneSeconds: number): Promise<[ImportOutcome, string?, string?]>
}

type Client = RedisClient & SessionScripts
type ScriptPipeline = ChainableCommander & { [Name in keyof SessionScripts]: (...args: Parameters<SessionScripts[Name]>) => ScriptPipeline }

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

function infoField(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim()
}

const words = (text: string | undefined): string[] => text ? text.split(' ').filter(Boolean) : []

export class RedisBackend implements SessionBackend {
  readonly location: string
  readonly changes?: RedisChangeFeed
  readonly #settings: RedisSettings
  readonly #limits: BackendLimits
  #client: Client | undefined
  #connectionError: string | undefined
  #connectionGist: string | undefined
  /** Checked after every (re)connect: why this Redis must not keep sessions, or undefined. */
  #verified: Promise<string | undefined> | undefined
  /** The first connection attempt, shared by the calls that wait for it. */
  #connecting: Promise<void> | undefined
  /** Master → until when its tombstones are not waited for, after a WAIT there timed out (ms). */
  readonly #replicasLateUntil = new Map<string, number>()

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
      const info = await node.info()
      const policy = infoField(info, 'maxmemory_policy')
      if (policy && EVICTING.test(policy)) {
        return `its maxmemory-policy is "${policy}", which evicts keys: ended sessions would come back and live ones vanish. `
          + 'Set maxmemory-policy noeviction (redis.conf, or CONFIG SET maxmemory-policy noeviction)'
      }
      const save = await node.config('GET', 'save').then(reply => (reply as string[])[1], () => undefined)
      if (infoField(info, 'aof_enabled') === '0' && save === '') {
        warnOnce(`${this.location} persistence`, `[session-store] WARNING: redis at ${this.location} has no persistence (appendonly no, save ""): `
          + 'a restart of Redis signs every user out. Turn on appendonly yes for production.')
      }
    }
    return undefined
  }

  async #redis(): Promise<Client> {
    const client = this.#client ??= this.#connect()
    if (client.status === 'reconnecting' || client.status === 'close') {
      throw new Error(`no connection (${this.#connectionError ?? 'the connection was lost'})`)
    }
    // Connected before anything else: on a Cluster, the masters verify() checks are known only then.
    if (client.status === 'wait') await (this.#connecting ??= client.connect().finally(() => (this.#connecting = undefined)))
    this.#verified ??= this.#verify(client).catch((error: unknown) => {
      this.#verified = undefined
      throw error
    })
    const unsafe = await this.#verified
    if (unsafe) throw new Error(unsafe)
    return client
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
   * Ends a session (a tombstone) and, with replicas configured, waits until one holds the tombstone
   * too: a failover right after the logout cannot hand the session back. When they do not answer in
   * time the logout still counts (the master has it), and tombstones are not waited for for a while.
   */
  async #ending<T>(redis: Client, key: string, end: (pipeline: ScriptPipeline, key: string) => ScriptPipeline): Promise<T> {
    const replicas = this.#settings.waitForReplicas
    // Per master: a failover leaves the promoted one without a replica for a while, the others keep theirs.
    const master = redis instanceof Cluster ? redis.slots[calculateSlot(key)]?.[0] ?? '' : ''
    const waiting = replicas > 0 && Date.now() >= (this.#replicasLateUntil.get(master) ?? 0)
    const pipeline = end(redis.pipeline() as ScriptPipeline, key)
    if (waiting) pipeline.wait(replicas, Math.max(10, Math.floor(this.#limits.timeoutMs / 4)))
    const replies = await pipeline.exec() ?? []
    for (const [error] of replies) if (error) throw error
    if (waiting && (replies[1]![1] as number) < replicas) {
      this.#replicasLateUntil.set(master, Date.now() + 10_000)
      warnOnce(`${this.location} ${master} replicas`, `[session-store] WARNING: redis at ${this.location}${master && ` (master ${master})`}: fewer than ${replicas} replica(s) `
        + 'confirmed a logout in time. Until they do, a failover could bring an ended session back. (REDIS_WAIT_FOR_REPLICAS)')
    }
    return replies[0]![1] as T
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
      if (reply[0] === 1) {
        if (reply[1] !== sidText || reply[2] !== sub) await this.#unindex(redis, record.id, words(reply[1]).filter(sid => !sids.includes(sid)), reply[2] === sub ? '' : reply[2])
        return true
      }
      const indexTtl = ttl + INDEX_SLACK_SECONDS
      const [oldest] = await this.#index(redis, record.id, record.keys, reply[1], indexTtl)
      const written = await redis.writeSession(key, record.sealed, ttl, sidText, sub, iss, indexTtl, PENDING_SECONDS, record.expiresAt)
      if (written[0] !== 1) return false
      await this.#unindex(redis, record.id, words(written[1]).filter(sid => !sids.includes(sid)), written[2] === sub ? '' : written[2])
      if (oldest) await this.#endOldest(redis, sub, record.id, oldest)
      return true
    })
  }

  /** Puts the id in its indexes (all at once, each on its own node); returns the user's cap overflow, if any. */
  async #index(redis: Client, id: string, keys: SessionRecord['keys'], createdAt: string, ttl: number): Promise<[string[] | undefined]> {
    const cap = this.#limits.maxSessionsPerUser
    const [overflow] = await Promise.all([
      keys.sub ? redis.indexSession(this.#indexKey(keys.sub), id, createdAt, ttl, cap) : Promise.resolve([]),
      ...keys.sids.map(sid => redis.indexSession(this.#indexKey(sid), id, '', ttl, 0)),
    ])
    return [overflow.length ? overflow : undefined]
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
      const [status, sids, sub] = await this.#ending<RevokeReply>(redis, this.#sessionKey(old), (pipeline, key) => pipeline.revokeSession(key, '', '', '', '', TOMBSTONE_SECONDS, '1'))
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
      const [sids, sub] = await this.#ending<[string, string]>(redis, this.#sessionKey(id), (pipeline, key) => pipeline.removeSession(key, TOMBSTONE_SECONDS))
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
    const replies = await Promise.all(ids.map(id => this.#ending<RevokeReply>(redis, this.#sessionKey(id),
      (pipeline, key) => pipeline.revokeSession(key, match.sid ?? '', match.sub ?? '', match.iss ?? '', bound, TOMBSTONE_SECONDS, ''))))
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
      const state = infoField(await redis.cluster('INFO') as string, 'cluster_state')
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
      const [outcome, sids, sub] = await this.#ending<[ImportOutcome, string?, string?]>(redis, key, (pipeline, sessionKey) => pipeline.importTombstone(sessionKey, Math.ceil(entry.remainingMs), TOMBSTONE_SECONDS))
      if (outcome === 'ended') void this.#unindex(redis, entry.id, words(sids), sub ?? '')
      return outcome
    }
    const { sids, sub = '', iss = '' } = entry.keys
    const begun = await redis.importSession(key, entry.createdAt, sids.join(' '), sub, iss, PENDING_SECONDS)
    if (begun !== 'pending') return begun
    if (sub && await this.#liveNewerThan(redis, sub, entry.createdAt) >= this.#limits.maxSessionsPerUser) {
      await redis.del(key)
      return 'over-cap'
    }
    const ttl = Math.max(1, entry.expiresAt - nowInSeconds())
    const indexTtl = ttl + INDEX_SLACK_SECONDS
    const [oldest] = await this.#index(redis, entry.id, entry.keys, String(entry.createdAt), indexTtl)
    const written = await redis.writeSession(key, entry.sealed, ttl, sids.join(' '), sub, iss, indexTtl, PENDING_SECONDS, entry.expiresAt)
    if (written[0] !== 1) return 'tombstoned'
    if (oldest) await this.#endOldest(redis, sub, entry.id, oldest)
    return 'copied'
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
    const client = this.#client
    this.#client = undefined
    this.#verified = undefined
    if (client) await client.quit().catch(() => client.disconnect())
  }
}

export default defineBackend({
  name: 'redis',
  settings: readRedisSettings,
  defaultLocation: DEFAULT_REDIS_URL,
  startHint: 'Start it with `docker compose up -d redis`, or check REDIS_URL (REDIS_CLUSTER_NODES, REDIS_SENTINELS).',
  create: (settings, limits) => new RedisBackend(settings, limits),
})
