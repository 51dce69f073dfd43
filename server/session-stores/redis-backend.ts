import { Redis } from 'ioredis'
import type { SessionBackend, SessionRecord, StoredSession } from './session-backend'
import type { LogoutMatch } from './session-index'
import { nowInSeconds } from './session-expiry'
import { redactUrl } from './session-store-config'

export interface RedisBackendOptions {
  /** `redis://[:password@]host:port[/db]`, or `rediss://` for TLS. */
  url: string
  /** Put before every key, so the sessions share a Redis with other data safely. Default `auth0:`. */
  keyPrefix: string
}

// Keys: <prefix>session:<id> is a hash { p: sealed payload, e: expires at, c: created at, k: "sid:.. sub:.. iss:.." },
// <prefix>index:<key> a set of session ids, <prefix>revoked:<key> the time that key was revoked.
// Each script runs atomically in Redis and costs one round-trip.
const HELPERS = `
local prefix = ARGV[1]
local function has(keys, key)
  return key == '' or string.find(' ' .. keys .. ' ', ' ' .. key .. ' ', 1, true) ~= nil
end
local function eachIndexKey(keys, fn)
  for key in string.gmatch(keys, '%S+') do
    if string.sub(key, 1, 4) ~= 'iss:' then fn(key) end
  end
end
local function deletedIdKey(id)
  return 'id:' .. id
end
local function removeSession(id)
  local sessionKey = prefix .. 'session:' .. id
  local keys = redis.call('HGET', sessionKey, 'k')
  if not keys then return 0 end
  eachIndexKey(keys, function(key) redis.call('SREM', prefix .. 'index:' .. key, id) end)
  redis.call('DEL', sessionKey)
  return 1
end
`

// ARGV: prefix, id, sealed, expiresAt, ttl, createdAt, keys
const WRITE = `${HELPERS}
local id, keys, ttl, createdAt = ARGV[2], ARGV[7], tonumber(ARGV[5]), tonumber(ARGV[6])
local revoked = false
local function check(key)
  local revokedAt = redis.call('GET', prefix .. 'revoked:' .. key)
  if revokedAt and createdAt <= tonumber(revokedAt) then revoked = true end
end
eachIndexKey(keys, check)
check(deletedIdKey(id))
if revoked then
  removeSession(id)
  return 0
end
local sessionKey = prefix .. 'session:' .. id
local previous = redis.call('HGET', sessionKey, 'k')
if previous and previous ~= keys then
  eachIndexKey(previous, function(key) redis.call('SREM', prefix .. 'index:' .. key, id) end)
end
redis.call('HSET', sessionKey, 'p', ARGV[3], 'e', ARGV[4], 'c', createdAt, 'k', keys)
redis.call('EXPIRE', sessionKey, ttl)
eachIndexKey(keys, function(key)
  local indexKey = prefix .. 'index:' .. key
  redis.call('SADD', indexKey, id)
  if redis.call('TTL', indexKey) < ttl then redis.call('EXPIRE', indexKey, ttl) end
end)
return 1
`

// ARGV: prefix, id, removedAt, revocation ttl
const REMOVE = `${HELPERS}
redis.call('SET', prefix .. 'revoked:' .. deletedIdKey(ARGV[2]), ARGV[3], 'EX', ARGV[4])
return removeSession(ARGV[2])
`

// ARGV: prefix, sid key, sub key, iss key ('' when absent), revoked key, revokedAt, revocation ttl
const REVOKE = `${HELPERS}
local sid, sub, iss, revokedKey, revokedAt = ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local lookup = prefix .. 'index:' .. (sid ~= '' and sid or sub)
local deleted = 0
for _, id in ipairs(redis.call('SMEMBERS', lookup)) do
  local fields = redis.call('HMGET', prefix .. 'session:' .. id, 'k', 'c')
  local keys, createdAt = fields[1], tonumber(fields[2] or '0')
  if not keys then
    redis.call('SREM', lookup, id)
  elseif has(keys, sid) and has(keys, sub) and has(keys, iss) and createdAt <= revokedAt then
    deleted = deleted + removeSession(id)
  end
end
local revokedAtKey = prefix .. 'revoked:' .. revokedKey
local previous = tonumber(redis.call('GET', revokedAtKey) or '0')
redis.call('SET', revokedAtKey, math.max(previous, revokedAt), 'EX', ARGV[7])
return deleted
`

// ARGV: prefix, sub key. Returns id, payload, expiresAt triples; drops ids of sessions that expired.
const LIST = `${HELPERS}
local found = {}
local indexKey = prefix .. 'index:' .. ARGV[2]
for _, id in ipairs(redis.call('SMEMBERS', indexKey)) do
  local fields = redis.call('HMGET', prefix .. 'session:' .. id, 'p', 'e')
  if not fields[1] then
    redis.call('SREM', indexKey, id)
  else
    table.insert(found, id)
    table.insert(found, fields[1])
    table.insert(found, fields[2])
  end
end
return found
`

interface SessionScripts {
  writeSession(prefix: string, id: string, sealed: Buffer, expiresAt: number, ttl: number, createdAt: number, keys: string): Promise<number>
  removeSession(prefix: string, id: string, removedAt: number, ttl: number): Promise<number>
  revokeSessions(prefix: string, sid: string, sub: string, iss: string, revokedKey: string, revokedAt: number, ttl: number): Promise<number>
  listSessionsBuffer(prefix: string, subKey: string): Promise<Buffer[]>
}

function joinKeys(record: SessionRecord): string {
  return [...record.keys.sids, record.keys.sub, record.keys.iss].filter(Boolean).join(' ')
}

export class RedisBackend implements SessionBackend {
  readonly location: string
  readonly startHint = 'Start it with `docker compose up -d redis`, or check REDIS_URL.'
  readonly #options: RedisBackendOptions
  #client: (Redis & SessionScripts) | undefined
  #connectionError: string | undefined

  constructor(options: RedisBackendOptions) {
    this.#options = options
    this.location = redactUrl(options.url)
  }

  /** Connects on first use; while Redis is down, commands fail fast and it reconnects by itself. */
  get #redis(): Redis & SessionScripts {
    if (this.#client) return this.#client
    const client = new Redis(this.#options.url, {
      lazyConnect: true,
      connectTimeout: 2000,
      maxRetriesPerRequest: 1,
      retryStrategy: attempt => Math.min(attempt * 200, 2000),
    })
    client.on('error', (error: Error) => {
      // ioredis reports every reconnect attempt; say it once per distinct error, not every 2 s.
      if (error.message !== this.#connectionError) console.error(`[session-store] redis at ${this.location}: ${error.message}`)
      this.#connectionError = error.message
    })
    client.on('ready', () => { this.#connectionError = undefined })
    client.defineCommand('writeSession', { numberOfKeys: 0, lua: WRITE })
    client.defineCommand('removeSession', { numberOfKeys: 0, lua: REMOVE })
    client.defineCommand('revokeSessions', { numberOfKeys: 0, lua: REVOKE })
    client.defineCommand('listSessions', { numberOfKeys: 0, lua: LIST })
    this.#client = client as Redis & SessionScripts
    return this.#client
  }

  /** Runs a command; when ioredis gives up for want of a connection, says why it had none. */
  async #run<T>(command: (redis: Redis & SessionScripts) => Promise<T>): Promise<T> {
    try {
      return await command(this.#redis)
    }
    catch (error) {
      if (error instanceof Error && error.name === 'MaxRetriesPerRequestError') {
        throw new Error(`no connection (${this.#connectionError ?? 'the connection was lost'})`, { cause: error })
      }
      throw error
    }
  }

  #sessionKey(id: string): string {
    return `${this.#options.keyPrefix}session:${id}`
  }

  async write(record: SessionRecord): Promise<boolean> {
    const ttl = Math.max(1, record.expiresAt - nowInSeconds())
    const written = await this.#run(redis => redis.writeSession(
      this.#options.keyPrefix, record.id, record.sealed, record.expiresAt, ttl, record.createdAt, joinKeys(record)))
    return written === 1
  }

  async read(id: string): Promise<StoredSession | undefined> {
    const [sealed, expiresAt] = await this.#run(redis => redis.hmgetBuffer(this.#sessionKey(id), 'p', 'e'))
    if (!sealed || !expiresAt) return undefined
    return { id, sealed, expiresAt: Number(expiresAt.toString()) }
  }

  async remove(id: string, removedAt: number, revocationSeconds: number): Promise<void> {
    await this.#run(redis => redis.removeSession(this.#options.keyPrefix, id, removedAt, revocationSeconds))
  }

  revoke(match: LogoutMatch, revokedKey: string, revokedAt: number, revocationSeconds: number): Promise<number> {
    return this.#run(redis => redis.revokeSessions(
      this.#options.keyPrefix, match.sid ?? '', match.sub ?? '', match.iss ?? '', revokedKey, revokedAt, revocationSeconds))
  }

  async listByUser(subKey: string): Promise<StoredSession[]> {
    const flat = await this.#run(redis => redis.listSessionsBuffer(this.#options.keyPrefix, subKey))
    const sessions: StoredSession[] = []
    for (let i = 0; i < flat.length; i += 3) {
      sessions.push({ id: flat[i]!.toString(), sealed: flat[i + 1]!, expiresAt: Number(flat[i + 2]!.toString()) })
    }
    return sessions
  }

  /** Redis expires sessions itself (EXPIRE on every write). */
  async prune(): Promise<number> {
    return 0
  }

  async ping(): Promise<void> {
    await this.#run(redis => redis.ping())
  }

  async close(): Promise<void> {
    await this.#client?.quit().catch(() => this.#client?.disconnect())
    this.#client = undefined
  }
}
