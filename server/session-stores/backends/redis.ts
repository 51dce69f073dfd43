import { Redis } from 'ioredis'
import { RateLimiterRedis } from 'rate-limiter-flexible'
import {
  defineBackend, TOMBSTONE_SECONDS, type BackendLimits, type ExportedEntry, type ImportOutcome, type RateLimit, type SessionBackend, type SessionRecord, type StoredSession,
} from '../session-backend'
import type { LogoutMatch } from '../session-index'
import { nowInSeconds } from '../session-expiry'
import { redactUrl } from '../session-store-config'

export interface RedisSettings {
  /** `redis://[:password@]host:port[/db]`, or `rediss://` for TLS (REDIS_URL). */
  url: string
  /** Put before every key, so the sessions share a Redis with other data safely (REDIS_KEY_PREFIX). Default `auth0:`. */
  keyPrefix: string
}

// Keys: <prefix>once:<key> a marker that recordOnce() set; <prefix>rate:<name>:<client> rate-limiter-flexible's counters;
// <prefix>session:<id> is a hash { p: sealed payload, e: expires at (s), c: first stored (ms, Redis clock),
// s: sid keys, u: sub key, i: iss key }, or a tombstone { t: 1 } once the session ended;
// <prefix>index:sid:<hash> a set of ids; <prefix>index:sub:<hash> a sorted set of ids by creation time.
// Each script runs atomically and costs one round trip; none walks more than the per-user cap.
const HELPERS = `
local prefix = ARGV[1]
local function sessionKey(id) return prefix .. 'session:' .. id end
local function indexKey(key) return prefix .. 'index:' .. key end
local function words(text)
  local list = {}
  for word in string.gmatch(text or '', '%S+') do list[#list + 1] = word end
  return list
end
local function has(text, word)
  return word == '' or string.find(' ' .. (text or '') .. ' ', ' ' .. word .. ' ', 1, true) ~= nil
end
local function unindex(id, sids, sub)
  for _, sid in ipairs(words(sids)) do redis.call('SREM', indexKey(sid), id) end
  if sub and sub ~= '' then redis.call('ZREM', indexKey(sub), id) end
end
-- Ends a session: out of its indexes, and a tombstone in its place that refuses a write still in flight.
local function endSession(id, tombstoneSeconds)
  local key = sessionKey(id)
  local fields = redis.call('HMGET', key, 's', 'u')
  unindex(id, fields[1], fields[2])
  redis.call('DEL', key)
  redis.call('HSET', key, 't', '1')
  redis.call('EXPIRE', key, tombstoneSeconds)
end
local function isLive(id)
  return redis.call('HEXISTS', sessionKey(id), 'p') == 1
end
local function keepIndex(index, ttl)
  if redis.call('TTL', index) < ttl then redis.call('EXPIRE', index, ttl) end
end
-- Stores a session and indexes it; when its user then holds more than maxSessions, ends the oldest live
-- ones (dropping ids that expired on the way), never this one, walking at most maxSessions.
local function putSession(id, sealed, expiresAt, ttl, createdAt, sids, sub, iss, maxSessions, tombstoneSeconds)
  local key = sessionKey(id)
  redis.call('HSET', key, 'p', sealed, 'e', expiresAt, 'c', createdAt, 's', sids, 'u', sub, 'i', iss)
  redis.call('EXPIRE', key, ttl)
  for _, sid in ipairs(words(sids)) do
    redis.call('SADD', indexKey(sid), id)
    keepIndex(indexKey(sid), ttl)
  end
  if sub == '' then return end
  local userIndex = indexKey(sub)
  redis.call('ZADD', userIndex, createdAt, id)
  keepIndex(userIndex, ttl)
  local excess = redis.call('ZCARD', userIndex) - maxSessions
  if excess > 0 then
    for _, old in ipairs(redis.call('ZRANGE', userIndex, 0, maxSessions - 1)) do
      if excess <= 0 then break end
      if old ~= id then
        if isLive(old) then endSession(old, tombstoneSeconds) else redis.call('ZREM', userIndex, old) end
        excess = excess - 1
      end
    end
  end
end
`

// ARGV: prefix, id, sealed, expiresAt, ttl, sid keys, sub key, iss key, max sessions per user, tombstone ttl
const WRITE = `${HELPERS}
local id, sealed, expiresAt, ttl = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local sids, sub, iss, maxSessions, tombstoneSeconds = ARGV[6], ARGV[7], ARGV[8], tonumber(ARGV[9]), tonumber(ARGV[10])
local key = sessionKey(id)
local current = redis.call('HMGET', key, 't', 'c', 's', 'u')
if current[1] then return 0 end
local createdAt = current[2]
if not createdAt then
  local now = redis.call('TIME')
  createdAt = now[1] .. string.format('%03d', math.floor(tonumber(now[2]) / 1000))
end
if current[3] and (current[3] ~= sids or current[4] ~= sub) then unindex(id, current[3], current[4]) end
putSession(id, sealed, expiresAt, ttl, createdAt, sids, sub, iss, maxSessions, tombstoneSeconds)
return 1
`

// ARGV: prefix, id, sealed, expiresAt, ttl, createdAt (ms), sid keys, sub key, iss key, max sessions per user, tombstone ttl.
// A session exported by another backend, written only where its id is free. Returns an ImportOutcome.
const IMPORT_SESSION = `${HELPERS}
local id, sealed, expiresAt, ttl, createdAt = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
local sids, sub, iss, maxSessions, tombstoneSeconds = ARGV[7], ARGV[8], ARGV[9], tonumber(ARGV[10]), tonumber(ARGV[11])
local current = redis.call('HMGET', sessionKey(id), 't', 'p')
if current[1] then return 'tombstoned' end
if current[2] then return 'present' end
if sub ~= '' then
  local live = 0
  for _, other in ipairs(redis.call('ZRANGEBYSCORE', indexKey(sub), '(' .. createdAt, '+inf', 'LIMIT', 0, maxSessions)) do
    if isLive(other) then live = live + 1 end
  end
  if live >= maxSessions then return 'over-cap' end
end
putSession(id, sealed, expiresAt, ttl, createdAt, sids, sub, iss, maxSessions, tombstoneSeconds)
return 'copied'
`

// ARGV: prefix, id, remaining ms, tombstone ttl. A tombstone exported by another backend; ending a live
// session gives it a whole tombstone ttl, as remove() does. Returns an ImportOutcome.
const IMPORT_TOMBSTONE = `${HELPERS}
local id = ARGV[2]
local current = redis.call('HMGET', sessionKey(id), 't', 'p')
if current[1] then return 'present' end
if current[2] then
  endSession(id, tonumber(ARGV[4]))
  return 'ended'
end
redis.call('HSET', sessionKey(id), 't', '1')
redis.call('PEXPIRE', sessionKey(id), ARGV[3])
return 'copied'
`

// ARGV: prefix, id, tombstone ttl
const REMOVE = `${HELPERS}
endSession(ARGV[2], tonumber(ARGV[3]))
return 1
`

// ARGV: prefix, sid key, sub key, iss key ('' when absent), created up to (ms, '' for any), tombstone ttl, limit, offset.
// By sid: the sid's set (one IdP session's app sessions). By sub alone: the oldest <limit> after <offset> of the
// user's sorted set, created up to the bound. Returns { ended, walked, kept }: the caller goes on while walked = limit.
const REVOKE = `${HELPERS}
local sid, sub, iss, createdUpTo = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local tombstoneSeconds, limit, offset = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local ids
if sid ~= '' then
  ids = redis.call('SMEMBERS', indexKey(sid))
else
  ids = redis.call('ZRANGEBYSCORE', indexKey(sub), '-inf', createdUpTo == '' and '+inf' or createdUpTo, 'LIMIT', offset, limit)
end
local ended, kept = 0, 0
for _, id in ipairs(ids) do
  local fields = redis.call('HMGET', sessionKey(id), 'p', 's', 'u', 'i', 'c')
  if not fields[1] then
    if sid ~= '' then redis.call('SREM', indexKey(sid), id) else redis.call('ZREM', indexKey(sub), id) end
  elseif has(fields[2], sid) and has(fields[3], sub) and has(fields[4], iss)
      and (createdUpTo == '' or tonumber(fields[5]) <= tonumber(createdUpTo)) then
    endSession(id, tombstoneSeconds)
    ended = ended + 1
  else
    kept = kept + 1
  end
end
return { ended, #ids, kept }
`

// ARGV: prefix, sub key, offset, limit. Returns id, payload, expiresAt, createdAt of each live session, newest
// first, then how many ids it walked and how many of them had expired (dropped from the index).
const LIST = `${HELPERS}
local userIndex = indexKey(ARGV[2])
local offset, limit = tonumber(ARGV[3]), tonumber(ARGV[4])
local ids = redis.call('ZREVRANGE', userIndex, offset, offset + limit - 1)
local sessions, dropped = {}, 0
for _, id in ipairs(ids) do
  local fields = redis.call('HMGET', sessionKey(id), 'p', 'e', 'c')
  if not fields[1] then
    redis.call('ZREM', userIndex, id)
    dropped = dropped + 1
  else
    for _, value in ipairs({ id, fields[1], fields[2], fields[3] }) do sessions[#sessions + 1] = value end
  end
end
sessions[#sessions + 1] = #ids
sessions[#sessions + 1] = dropped
return sessions
`

/** The scripts by the name they are called by (the bench names a slow one by its hash). */
export const SCRIPTS = {
  writeSession: WRITE, removeSession: REMOVE, revokeSessions: REVOKE, listSessions: LIST, importSession: IMPORT_SESSION, importTombstone: IMPORT_TOMBSTONE,
}

interface SessionScripts {
  writeSession(...args: [string, string, Buffer, number, number, string, string, string, number, number]): Promise<number>
  removeSession(prefix: string, id: string, tombstoneSeconds: number): Promise<number>
  revokeSessions(...args: [string, string, string, string, string, number, number, number]): Promise<[number, number, number]>
  listSessionsBuffer(prefix: string, subKey: string, offset: number, limit: number): Promise<Buffer[]>
}

interface ImportScripts {
  importSession(...args: [string, string, Buffer, number, number, number, string, string, string, number, number]): Promise<ImportOutcome>
  importTombstone(prefix: string, id: string, remainingMs: number, tombstoneSeconds: number): Promise<ImportOutcome>
}

type Client = Redis & SessionScripts
type ImportPipeline = ReturnType<Redis['pipeline']> & ImportScripts

/** Sessions one revoke or list script walks at most: a few ms of Redis's time at 100 (bench: faults). */
const BATCH = 100

// Policies under which Redis deletes keys it was not asked to: a tombstone evicted is a session resurrected.
const EVICTING = /^(allkeys|volatile)-/

/** Redis servers already warned about, so that the warning is said once per process, not per connection. */
const warnedUnpersisted = new Set<string>()

function infoField(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim()
}

export class RedisBackend implements SessionBackend {
  readonly location: string
  readonly #settings: RedisSettings
  readonly #limits: BackendLimits
  #client: Client | undefined
  #connectionError: string | undefined
  /** Checked after every (re)connect: why this Redis must not keep sessions, or undefined. */
  #verified: Promise<string | undefined> | undefined

  constructor(settings: RedisSettings, limits: BackendLimits) {
    this.#settings = settings
    this.#limits = limits
    this.location = redactUrl(settings.url)
  }

  /** Connects on first use; reconnects by itself. Commands never wait for a connection that is down. */
  #connect(): Client {
    const client = new Redis(this.#settings.url, {
      lazyConnect: true,
      connectTimeout: this.#limits.timeoutMs,
      commandTimeout: this.#limits.timeoutMs,
      // A command issued while the connection is lost fails at the next reconnect attempt, not after several.
      maxRetriesPerRequest: 0,
      keepAlive: 10_000,
      retryStrategy: attempt => Math.min(attempt * 100, 1000),
    })
    client.on('error', (error: Error) => {
      // ioredis reports every reconnect attempt; say it once per distinct error.
      if (error.message !== this.#connectionError) console.error(`[session-store] redis at ${this.location}: ${error.message}`)
      this.#connectionError = error.message
    })
    client.on('ready', () => {
      this.#connectionError = undefined
      this.#verified = undefined
    })
    for (const [name, lua] of Object.entries(SCRIPTS)) client.defineCommand(name, { numberOfKeys: 0, lua })
    return client as Client
  }

  /**
   * Refuses a Redis that would lose sessions: an evicting `maxmemory-policy` drops tombstones and
   * live sessions alike. No persistence is only a warning: a restart signs everybody out.
   */
  async #verify(client: Client): Promise<string | undefined> {
    const info = await client.info()
    const policy = infoField(info, 'maxmemory_policy')
    if (policy && EVICTING.test(policy)) {
      return `its maxmemory-policy is "${policy}", which evicts keys: ended sessions would come back and live ones vanish. `
        + 'Set maxmemory-policy noeviction (redis.conf, or CONFIG SET maxmemory-policy noeviction)'
    }
    const save = await client.config('GET', 'save').then(reply => (reply as string[])[1], () => undefined)
    if (infoField(info, 'aof_enabled') === '0' && save === '' && !warnedUnpersisted.has(this.location)) {
      warnedUnpersisted.add(this.location)
      console.warn(`[session-store] WARNING: redis at ${this.location} has no persistence (appendonly no, save ""): `
        + 'a restart of Redis signs every user out. Turn on appendonly yes for production.')
    }
    return undefined
  }

  async #redis(): Promise<Client> {
    const client = this.#client ??= this.#connect()
    if (client.status === 'reconnecting' || client.status === 'close') {
      throw new Error(`no connection (${this.#connectionError ?? 'the connection was lost'})`)
    }
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

  async write(record: SessionRecord): Promise<boolean> {
    const ttl = Math.max(1, record.expiresAt - nowInSeconds())
    const { sids, sub = '', iss = '' } = record.keys
    const written = await this.#run(redis => redis.writeSession(this.#settings.keyPrefix, record.id, record.sealed,
      record.expiresAt, ttl, sids.join(' '), sub, iss, this.#limits.maxSessionsPerUser, TOMBSTONE_SECONDS))
    return written === 1
  }

  async read(id: string): Promise<StoredSession | undefined> {
    const [sealed, expiresAt, createdAt] = await this.#run(redis => redis.hmgetBuffer(`${this.#settings.keyPrefix}session:${id}`, 'p', 'e', 'c'))
    if (!sealed || !expiresAt || !createdAt) return undefined
    return { id, sealed, expiresAt: Number(expiresAt.toString()), createdAt: Number(createdAt.toString()) }
  }

  async remove(id: string): Promise<void> {
    await this.#run(redis => redis.removeSession(this.#settings.keyPrefix, id, TOMBSTONE_SECONDS))
  }

  /** In batches, so that one user's many sessions never block Redis for long (a few ms per batch). */
  async revoke(match: LogoutMatch, createdUpTo: number | undefined): Promise<number> {
    const limit = Math.min(this.#limits.maxSessionsPerUser, BATCH)
    let ended = 0
    let offset = 0
    for (;;) {
      const [batchEnded, walked, kept] = await this.#run(redis => redis.revokeSessions(this.#settings.keyPrefix,
        match.sid ?? '', match.sub ?? '', match.iss ?? '', createdUpTo === undefined ? '' : String(createdUpTo), TOMBSTONE_SECONDS, limit, offset))
      ended += batchEnded
      offset += kept
      if (match.sid || walked < limit) return ended
    }
  }

  /** Newest first, in batches, up to the per-user cap. */
  async listByUser(subKey: string): Promise<StoredSession[]> {
    const cap = this.#limits.maxSessionsPerUser
    const sessions: StoredSession[] = []
    let offset = 0
    for (;;) {
      const limit = Math.min(cap - sessions.length, BATCH)
      const flat = await this.#run(redis => redis.listSessionsBuffer(this.#settings.keyPrefix, subKey, offset, limit))
      const dropped = Number(flat.pop()!.toString())
      const walked = Number(flat.pop()!.toString())
      for (let i = 0; i < flat.length; i += 4) {
        sessions.push({ id: flat[i]!.toString(), sealed: flat[i + 1]!, expiresAt: Number(flat[i + 2]!.toString()), createdAt: Number(flat[i + 3]!.toString()) })
      }
      if (walked < limit || sessions.length >= cap) return sessions
      // The ids dropped from the index no longer count in its ranks.
      offset += walked - dropped
    }
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

  async ping(): Promise<void> {
    await this.#run(redis => redis.ping())
  }

  /** SCAN over the sessions, then the once-keys; each batch read in one pipeline (HMGET, PTTL). */
  async* exportAll(batchSize: number): AsyncIterable<ExportedEntry[]> {
    const redis = await this.#redis()
    const prefix = this.#settings.keyPrefix
    for await (const keys of this.#scan(redis, 'session:', batchSize)) {
      const pipeline = redis.pipeline()
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
            keys: { sids: sids?.toString().split(' ').filter(Boolean) ?? [], sub: sub?.toString() || undefined, iss: iss?.toString() || undefined },
          })
        }
        else if (tombstone && (remainingMs as number) > 0) {
          entries.push({ kind: 'tombstone', id, remainingMs: remainingMs as number })
        }
      })
      if (entries.length) yield entries
    }
    for await (const keys of this.#scan(redis, 'once:', batchSize)) {
      const pipeline = redis.pipeline()
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

  /** The keys under `<prefix><kind>`, in batches (SCAN's COUNT is a hint: a batch may be smaller, or empty and skipped). */
  async* #scan(redis: Client, kind: string, batchSize: number): AsyncIterable<string[]> {
    const match = `${this.#settings.keyPrefix}${kind}`.replace(/[*?[\]\\]/g, '\\$&')
    for await (const keys of redis.scanStream({ match: `${match}*`, count: batchSize }) as AsyncIterable<string[]>) {
      if (keys.length) yield keys
    }
  }

  /** One pipeline per batch: a round trip for the lot, each script atomic and run in order. */
  async importEntries(entries: ExportedEntry[]): Promise<ImportOutcome[]> {
    const prefix = this.#settings.keyPrefix
    return this.#run(async (redis) => {
      const pipeline = redis.pipeline() as ImportPipeline
      for (const entry of entries) {
        if (entry.kind === 'session') {
          const { sids, sub = '', iss = '' } = entry.keys
          pipeline.importSession(prefix, entry.id, entry.sealed, entry.expiresAt, Math.max(1, entry.expiresAt - nowInSeconds()),
            entry.createdAt, sids.join(' '), sub, iss, this.#limits.maxSessionsPerUser, TOMBSTONE_SECONDS)
        }
        else if (entry.kind === 'tombstone') {
          pipeline.importTombstone(prefix, entry.id, Math.ceil(entry.remainingMs), TOMBSTONE_SECONDS)
        }
        else {
          pipeline.set(`${prefix}once:${entry.key}`, '1', 'PX', Math.ceil(entry.remainingMs), 'NX')
        }
      }
      const replies = await pipeline.exec() ?? []
      return replies.map(([error, reply], index) => {
        if (error) throw error
        if (entries[index]!.kind === 'once') return reply === 'OK' ? 'copied' : 'present'
        return reply as ImportOutcome
      })
    })
  }

  /** SCAN and UNLINK in batches: no KEYS, no FLUSHDB (other data may live in the same Redis). */
  async drop(): Promise<void> {
    const redis = await this.#redis()
    for await (const keys of redis.scanStream({ match: `${this.#settings.keyPrefix}*`, count: 1000 }) as AsyncIterable<string[]>) {
      if (keys.length) await redis.unlink(...keys)
    }
  }

  async close(): Promise<void> {
    const client = this.#client
    this.#client = undefined
    this.#verified = undefined
    if (client) await client.quit().catch(() => client.disconnect())
  }
}

const DEFAULT_URL = 'redis://localhost:6379'

export default defineBackend({
  name: 'redis',
  settings: (env): RedisSettings => ({
    url: env.string('REDIS_URL', DEFAULT_URL),
    keyPrefix: env.string('REDIS_KEY_PREFIX', 'auth0:'),
  }),
  defaultLocation: DEFAULT_URL,
  startHint: 'Start it with `docker compose up -d redis`, or check REDIS_URL.',
  create: (settings, limits) => new RedisBackend(settings, limits),
})
