import pg from 'pg'
import { RateLimiterPostgres } from 'rate-limiter-flexible'
import {
  defineBackend, TOMBSTONE_SECONDS, type BackendLimits, type ExportedEntry, type ExportedSession, type ImportOutcome, type RateLimit, type SessionBackend,
  type SessionRecord, type StoredSession,
} from '../session-backend'
import type { LogoutMatch } from '../session-index'
import { redactUrl, SessionStoreConfigError, type EnvReader } from '../session-store-config'
import { postgresSchema } from './postgres-schema'

export interface PostgresSettings {
  /** `postgres://user:password@host:5432/database` (DATABASE_URL, or built from PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE). */
  connectionString: string
  /** The sessions table; its indexes are named after it (POSTGRES_SESSION_TABLE). Default `auth0_sessions`. */
  table: string
}

const DEFAULT_URL = 'postgres://postgres:postgres@localhost:5432/auth0_sessions'

/** DATABASE_URL; when unset, each PG* variable libpq users know replaces its part of the default URL. */
function connectionString(env: EnvReader): string {
  const url = env.optional('DATABASE_URL')
  if (url) return url
  const built = new URL(DEFAULT_URL)
  const host = env.string('PGHOST', built.hostname)
  built.hostname = host
  if (built.hostname !== host) {
    throw new SessionStoreConfigError(`PGHOST must be a host name or address (IPv6 in brackets); got "${host}". `
      + 'For a Unix socket, set DATABASE_URL instead, e.g. postgres://user:password@/database?host=/var/run/postgresql')
  }
  built.port = String(env.integer('PGPORT', Number(built.port), { max: 65_535 }))
  built.username = encodeURIComponent(env.string('PGUSER', built.username))
  built.password = encodeURIComponent(env.string('PGPASSWORD', built.password))
  built.pathname = `/${encodeURIComponent(env.string('PGDATABASE', built.pathname.slice(1)))}`
  return built.href
}

// Taken inside the schema's transaction, so that app servers starting together do not race on DDL.
const SCHEMA_LOCK = 4_206_117
// Creating the schema may wait for another app server's, or migrate an old table: more than one call's deadline.
const SCHEMA_TIMEOUT_MS = 60_000

// Ends a session in place: the id stays refused until the tombstone expires, on the database's clock.
const TOMBSTONE = `payload = NULL, sid_keys = '{}', sub_key = NULL, iss_key = NULL,
  expires_at = now() + interval '${TOMBSTONE_SECONDS} seconds'`
const CLOCK_MS = '(extract(epoch FROM clock_timestamp()) * 1000)::bigint'
const LIVE = 'payload IS NOT NULL AND expires_at > now()'
const STORED_COLUMNS = 'id, payload, extract(epoch FROM expires_at)::bigint AS expires_at, created_at'

interface StoredRow {
  id: string
  payload: Buffer
  expires_at: string
  created_at: string
}

function toStoredSession(row: StoredRow): StoredSession {
  return { id: row.id, sealed: row.payload, expiresAt: Number(row.expires_at), createdAt: Number(row.created_at) }
}

/**
 * A named statement: each pooled connection parses it once, and PostgreSQL soon keeps one plan for it,
 * so a call sends only its values (planning the write took about 0.3 ms, running it 0.1 ms). Behind
 * PgBouncer in transaction mode, that needs PgBouncer 1.21 or later with max_prepared_statements above 0.
 */
interface Statement {
  name: string
  text: string
}

/** Named after the table (unique within this backend's pool, which the rate limiter's `rlflx-*` statements share). */
function statement(table: string, name: string, text: string): Statement {
  return { name: `${table}.${name}`, text }
}

/**
 * One statement, so all or nothing. The upsert skips a live tombstone (ON CONFLICT locks the row and
 * reads its latest version, so a revocation that committed first is seen). created_at is set when the
 * id is new (or its old row expired) and kept otherwise. A new id ends its user's other live sessions
 * beyond the newest cap - 1 (the statement's snapshot does not hold the new row), at most cap of them.
 * $1 id, $2 payload, $3 expires at (s), $4 sid keys, $5 sub key, $6 iss key, $7 cap - 1, $8 cap.
 */
function writeStatement(table: string): string {
  return `WITH clock AS (SELECT ${CLOCK_MS} AS ms),
written AS (
  INSERT INTO ${table} AS s (id, payload, expires_at, created_at, sid_keys, sub_key, iss_key)
  SELECT $1, $2, to_timestamp($3), clock.ms, $4, $5, $6 FROM clock
  ON CONFLICT (id) DO UPDATE SET payload = EXCLUDED.payload, expires_at = EXCLUDED.expires_at,
    created_at = CASE WHEN s.expires_at <= now() THEN EXCLUDED.created_at ELSE s.created_at END,
    sid_keys = EXCLUDED.sid_keys, sub_key = EXCLUDED.sub_key, iss_key = EXCLUDED.iss_key
  WHERE s.payload IS NOT NULL OR s.expires_at <= now()
  RETURNING s.created_at = (SELECT ms FROM clock) AS is_new
),
excess AS (
  SELECT id FROM ${table} WHERE sub_key = $5 AND id <> $1 AND ${LIVE}
  ORDER BY created_at DESC OFFSET $7 LIMIT $8
),
ended AS (
  UPDATE ${table} SET ${TOMBSTONE}
  WHERE id IN (SELECT id FROM excess) AND payload IS NOT NULL AND EXISTS (SELECT 1 FROM written WHERE is_new)
)
SELECT count(*)::int AS written FROM written`
}

/**
 * A session another backend exported, inserted only where its id is free (a row that has expired
 * counts as free), with its own created_at, unless its user holds `cap` live sessions newer than it
 * there. Then, like a sign-in, it ends that user's live sessions beyond the newest cap - 1 others: as
 * it has fewer than cap newer ones, those are all older than it. Returns the outcome.
 * $1 id, $2 payload, $3 expires at (s), $4 created at (ms), $5 sid keys, $6 sub key, $7 iss key, $8 cap - 1, $9 cap.
 */
function importSessionStatement(table: string): string {
  return `WITH current AS (
  SELECT payload IS NOT NULL AS live FROM ${table} WHERE id = $1 AND expires_at > now()
),
newer AS (
  SELECT count(*)::int AS n FROM (SELECT 1 FROM ${table} WHERE sub_key = $6 AND created_at > $4 AND ${LIVE} LIMIT $9) AS found
),
written AS (
  INSERT INTO ${table} AS s (id, payload, expires_at, created_at, sid_keys, sub_key, iss_key)
  SELECT $1, $2, to_timestamp($3), $4, $5, $6, $7 WHERE NOT EXISTS (SELECT 1 FROM current) AND (SELECT n FROM newer) < $9
  ON CONFLICT (id) DO UPDATE SET payload = EXCLUDED.payload, expires_at = EXCLUDED.expires_at, created_at = EXCLUDED.created_at,
    sid_keys = EXCLUDED.sid_keys, sub_key = EXCLUDED.sub_key, iss_key = EXCLUDED.iss_key
  WHERE s.expires_at <= now()
  RETURNING id
),
excess AS (
  SELECT id FROM ${table} WHERE sub_key = $6 AND id <> $1 AND ${LIVE}
  ORDER BY created_at DESC OFFSET $8 LIMIT $9
),
ended AS (
  UPDATE ${table} SET ${TOMBSTONE}
  WHERE id IN (SELECT id FROM excess) AND payload IS NOT NULL AND EXISTS (SELECT 1 FROM written)
)
SELECT CASE
  WHEN EXISTS (SELECT 1 FROM written) THEN 'copied'
  WHEN (SELECT live FROM current) = false THEN 'tombstoned'
  WHEN NOT EXISTS (SELECT 1 FROM current) AND (SELECT n FROM newer) >= $9 THEN 'over-cap'
  ELSE 'present' END AS outcome`
}

/**
 * A tombstone another backend exported: a live session of that id ends (with a whole tombstone time, as
 * remove() does); a free id (an expired row counts as free) gets the tombstone for its remaining time.
 * $1 id, $2 remaining ms.
 */
function importTombstoneStatement(table: string): string {
  return `WITH ended AS (
  UPDATE ${table} SET ${TOMBSTONE} WHERE id = $1 AND ${LIVE} RETURNING id
),
written AS (
  INSERT INTO ${table} AS s (id, payload, expires_at, created_at, sid_keys)
  SELECT $1, NULL, now() + make_interval(secs => $2::double precision / 1000), ${CLOCK_MS}, '{}' WHERE NOT EXISTS (SELECT 1 FROM ended)
  ON CONFLICT (id) DO UPDATE SET payload = NULL, expires_at = EXCLUDED.expires_at, created_at = EXCLUDED.created_at,
    sid_keys = '{}', sub_key = NULL, iss_key = NULL
  WHERE s.expires_at <= now()
  RETURNING id
)
SELECT CASE WHEN EXISTS (SELECT 1 FROM ended) THEN 'ended' WHEN EXISTS (SELECT 1 FROM written) THEN 'copied' ELSE 'present' END AS outcome`
}

interface ExportRow {
  id: string
  payload: Buffer | null
  expires_at: string
  created_at: string
  sid_keys: string[]
  sub_key: string | null
  iss_key: string | null
  remaining_ms: string
}

/** A row as an export entry: a session, a recordOnce() marker (`once:<key>`, no payload), or a tombstone. */
function toExportedEntry(row: ExportRow): ExportedEntry {
  const remainingMs = Number(row.remaining_ms)
  if (row.payload) {
    return {
      kind: 'session', id: row.id, sealed: row.payload, expiresAt: Number(row.expires_at), createdAt: Number(row.created_at),
      keys: { sids: row.sid_keys, sub: row.sub_key ?? undefined, iss: row.iss_key ?? undefined },
    }
  }
  return row.id.startsWith('once:') ? { kind: 'once', key: row.id.slice('once:'.length), remainingMs } : { kind: 'tombstone', id: row.id, remainingMs }
}

export class PostgresBackend implements SessionBackend {
  readonly location: string
  readonly #settings: PostgresSettings
  readonly #limits: BackendLimits
  readonly #write: Statement
  readonly #read: Statement
  readonly #remove: Statement
  readonly #listByUser: Statement
  readonly #recordOnce: Statement
  readonly #importSession: Statement
  readonly #importTombstone: Statement
  #pool: pg.Pool | undefined
  #schema: Promise<void> | undefined

  constructor(settings: PostgresSettings, limits: BackendLimits) {
    this.#settings = settings
    this.#limits = limits
    const table = settings.table
    this.#write = statement(table, 'write', writeStatement(table))
    this.#read = statement(table, 'read', `SELECT ${STORED_COLUMNS} FROM ${table} WHERE id = $1 AND ${LIVE}`)
    this.#remove = statement(table, 'remove', `INSERT INTO ${table} (id, payload, expires_at, created_at, sid_keys)
      VALUES ($1, NULL, now() + interval '${TOMBSTONE_SECONDS} seconds', ${CLOCK_MS}, '{}')
      ON CONFLICT (id) DO UPDATE SET ${TOMBSTONE}`)
    this.#listByUser = statement(table, 'list-by-user', `SELECT ${STORED_COLUMNS} FROM ${table}
      WHERE sub_key = $1 AND ${LIVE} ORDER BY created_at DESC LIMIT $2`)
    this.#recordOnce = statement(table, 'record-once', `INSERT INTO ${table} (id, payload, expires_at, created_at, sid_keys)
      VALUES ($1, NULL, now() + make_interval(secs => $2), ${CLOCK_MS}, '{}')
      ON CONFLICT (id) DO UPDATE SET expires_at = EXCLUDED.expires_at, created_at = EXCLUDED.created_at
      WHERE ${table}.expires_at <= now()`)
    this.#importSession = statement(table, 'import-session', importSessionStatement(table))
    this.#importTombstone = statement(table, 'import-tombstone', importTombstoneStatement(table))
    this.location = redactUrl(settings.connectionString)
  }

  /**
   * Made on first use. Every query has the call's deadline on both sides: a query that times out
   * fails its pooled client, which pg-pool then destroys, so a frozen server leaves no stuck clients.
   */
  #connect(): pg.Pool {
    const timeoutMs = this.#limits.timeoutMs
    const pool = new pg.Pool({
      connectionString: this.#settings.connectionString,
      max: 10,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
      statement_timeout: timeoutMs,
      keepAlive: true,
    })
    // An idle client whose server went away: the pool drops it; the next query reconnects.
    pool.on('error', error => console.error(`[session-store] postgres at ${this.location}: ${error.message}`))
    return pool
  }

  /** The pool, once the schema exists; a failed attempt at the schema is retried on the next call. */
  async #ready(): Promise<pg.Pool> {
    const pool = this.#pool ??= this.#connect()
    this.#schema ??= this.#createSchema().catch((error: unknown) => {
      this.#schema = undefined
      throw error
    })
    await this.#schema
    return pool
  }

  /** On a connection of its own, whose deadline allows for waiting on another app server's DDL or migrating an old table. */
  async #createSchema(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.#settings.connectionString,
      connectionTimeoutMillis: this.#limits.timeoutMs,
      query_timeout: SCHEMA_TIMEOUT_MS,
      statement_timeout: SCHEMA_TIMEOUT_MS,
      keepAlive: true,
    })
    // A lost connection also fails the pending call; without a listener it would crash the process.
    client.on('error', () => {})
    try {
      await client.connect()
      await client.query(`BEGIN; SELECT pg_advisory_xact_lock(${SCHEMA_LOCK}); ${postgresSchema(this.#settings.table)} COMMIT;`)
    }
    finally {
      await client.end()
    }
  }

  async write(record: SessionRecord): Promise<boolean> {
    const pool = await this.#ready()
    const cap = this.#limits.maxSessionsPerUser
    const { sids, sub = null, iss = null } = record.keys
    const { rows } = await pool.query<{ written: number }>({ ...this.#write, values: [record.id, record.sealed, record.expiresAt, sids, sub, iss, cap - 1, cap] })
    return rows[0]!.written === 1
  }

  async read(id: string): Promise<StoredSession | undefined> {
    const pool = await this.#ready()
    const { rows } = await pool.query<StoredRow>({ ...this.#read, values: [id] })
    return rows[0] && toStoredSession(rows[0])
  }

  async remove(id: string): Promise<void> {
    const pool = await this.#ready()
    await pool.query({ ...this.#remove, values: [id] })
  }

  /**
   * One UPDATE, through the GIN index on sid_keys or the (sub_key, created_at) index. A write that
   * holds a matching row makes it wait, and the row is then re-checked at its latest version.
   */
  async revoke(match: LogoutMatch, createdUpTo: number | undefined): Promise<number> {
    if (!match.sid && !match.sub) {
      throw new RangeError(`revoke() needs a sid or sub key to find sessions by; got ${JSON.stringify(match)}, which would end every session`)
    }
    const values: Array<string | number> = []
    const parameter = (value: string | number) => `$${values.push(value)}`
    const conditions = [LIVE]
    if (match.sid) conditions.push(`sid_keys @> ARRAY[${parameter(match.sid)}]::text[]`)
    if (match.sub) conditions.push(`sub_key = ${parameter(match.sub)}`)
    if (match.iss) conditions.push(`iss_key = ${parameter(match.iss)}`)
    if (createdUpTo !== undefined) conditions.push(`created_at <= ${parameter(Math.floor(createdUpTo))}`)
    // One named statement per combination of conditions (at most 12).
    const shape = [match.sid && 'sid', match.sub && 'sub', match.iss && 'iss', createdUpTo !== undefined && 'created'].filter(Boolean).join('-')
    const table = this.#settings.table
    const revoke = statement(table, `revoke-by-${shape}`, `UPDATE ${table} SET ${TOMBSTONE} WHERE ${conditions.join(' AND ')}`)
    const pool = await this.#ready()
    const { rowCount } = await pool.query({ ...revoke, values })
    return rowCount ?? 0
  }

  async listByUser(subKey: string): Promise<StoredSession[]> {
    const pool = await this.#ready()
    const { rows } = await pool.query<StoredRow>({ ...this.#listByUser, values: [subKey, this.#limits.maxSessionsPerUser] })
    return rows.map(toStoredSession)
  }

  /** A marker row with no payload: refused as a session id, found by id, expired and pruned like a tombstone. */
  async recordOnce(key: string, seconds: number): Promise<boolean> {
    const pool = await this.#ready()
    const { rowCount } = await pool.query({ ...this.#recordOnce, values: [`once:${key}`, seconds] })
    return rowCount === 1
  }

  /** On this backend's pool, in the table the schema creates; until it exists, the insurance limiter counts. */
  rateLimiter(limit: RateLimit): RateLimiterPostgres {
    this.#pool ??= this.#connect()
    return new RateLimiterPostgres({ ...limit, storeClient: this.#pool, storeType: 'pool', tableName: `${this.#settings.table}_rate_limits`, tableCreated: true })
  }

  /** Run by the scheduled Nitro task `session-store:prune`: PostgreSQL has no native expiry. Counts sessions, not tombstones. */
  async prune(): Promise<number> {
    const pool = await this.#ready()
    const { rows } = await pool.query<{ sessions: number }>(`WITH pruned AS (
      DELETE FROM ${this.#settings.table} WHERE expires_at <= now() RETURNING payload IS NOT NULL AS session
    ) SELECT count(*) FILTER (WHERE session)::int AS sessions FROM pruned`)
    await pool.query(`DELETE FROM ${this.#settings.table}_rate_limits WHERE expire < ${CLOCK_MS}`)
    return rows[0]!.sessions
  }

  async ping(): Promise<void> {
    const pool = await this.#ready()
    await pool.query('SELECT 1')
  }

  /** Keyset pagination on the primary key: each batch is one short query, wherever the previous one ended. */
  async* exportAll(batchSize: number): AsyncIterable<ExportedEntry[]> {
    const pool = await this.#ready()
    let after = ''
    for (;;) {
      const { rows } = await pool.query<ExportRow>(`SELECT id, payload, extract(epoch FROM expires_at)::bigint AS expires_at, created_at,
          sid_keys, sub_key, iss_key, ceil(extract(epoch FROM expires_at - now()) * 1000)::bigint AS remaining_ms
        FROM ${this.#settings.table} WHERE id > $1 AND expires_at > now() ORDER BY id LIMIT $2`, [after, batchSize])
      if (rows.length) yield rows.map(toExportedEntry)
      if (rows.length < batchSize) return
      after = rows.at(-1)!.id
    }
  }

  /** One statement per entry, in order: a user's sessions are counted against the cap one after another. */
  async importEntries(entries: ExportedEntry[]): Promise<ImportOutcome[]> {
    const pool = await this.#ready()
    const outcomes: ImportOutcome[] = []
    for (const entry of entries) {
      if (entry.kind === 'once') {
        outcomes.push(await this.recordOnce(entry.key, Math.ceil(entry.remainingMs / 1000)) ? 'copied' : 'present')
        continue
      }
      const { rows } = entry.kind === 'session'
        ? await pool.query<{ outcome: ImportOutcome }>({ ...this.#importSession, values: this.#importSessionValues(entry) })
        : await pool.query<{ outcome: ImportOutcome }>({ ...this.#importTombstone, values: [entry.id, Math.ceil(entry.remainingMs)] })
      outcomes.push(rows[0]!.outcome)
    }
    return outcomes
  }

  #importSessionValues(session: ExportedSession): unknown[] {
    const cap = this.#limits.maxSessionsPerUser
    const { sids, sub = null, iss = null } = session.keys
    return [session.id, session.sealed, session.expiresAt, session.createdAt, sids, sub, iss, cap - 1, cap]
  }

  async drop(): Promise<void> {
    const pool = this.#pool ??= this.#connect()
    await pool.query(`DROP TABLE IF EXISTS ${this.#settings.table}, ${this.#settings.table}_rate_limits`)
    this.#schema = undefined
  }

  async close(): Promise<void> {
    const pool = this.#pool
    this.#pool = undefined
    this.#schema = undefined
    await pool?.end()
  }
}

export default defineBackend({
  name: 'postgres',
  settings: (env): PostgresSettings => ({
    connectionString: connectionString(env),
    table: env.sqlName('POSTGRES_SESSION_TABLE', 'auth0_sessions'),
  }),
  defaultLocation: DEFAULT_URL,
  startHint: 'Start it with `docker compose up -d postgres`, or check DATABASE_URL.',
  create: (settings, limits) => new PostgresBackend(settings, limits),
})
