import pg from 'pg'
import { defineBackend, type SessionBackend, SessionRecord, StoredSession } from '../session-backend'
import type { LogoutMatch } from '../session-index'
import { postgresSchema } from './postgres-schema'
import { redactUrl } from '../session-store-config'

export interface PostgresSettings {
  /** `postgres://user:password@host:5432/database` (DATABASE_URL, or built from PGHOST, PGUSER, ...). */
  connectionString: string
  /** Table name; the revocations table and the functions are named after it. Default `auth0_sessions`. */
  table: string
}

// Taken inside the schema's transaction, so that app servers starting together do not race on DDL.
const SCHEMA_LOCK = 4_206_117

interface SessionRow {
  id: string
  payload: Buffer
  expires_at: string
}

function toStoredSession(row: SessionRow): StoredSession {
  return { id: row.id, sealed: row.payload, expiresAt: Number(row.expires_at) }
}

export class PostgresBackend implements SessionBackend {
  readonly location: string
  readonly startHint = 'Start it with `docker compose up -d postgres`, or check DATABASE_URL.'
  readonly #options: PostgresSettings
  readonly #table: string
  #pool: pg.Pool | undefined
  #schema: Promise<void> | undefined

  constructor(options: PostgresSettings) {
    this.#options = options
    this.#table = options.table
    this.location = redactUrl(options.connectionString)
  }

  /** A pool made on first use that creates the schema once; a failed attempt is retried on the next call. */
  async #ready(): Promise<pg.Pool> {
    if (!this.#pool) {
      this.#pool = new pg.Pool({ connectionString: this.#options.connectionString, connectionTimeoutMillis: 2000, max: 10 })
      // An idle client whose server went away: the pool drops it; the next query reconnects.
      this.#pool.on('error', error => console.error(`[session-store] postgres at ${this.location}: ${error.message}`))
    }
    const pool = this.#pool
    this.#schema ??= pool.query(`BEGIN; SELECT pg_advisory_xact_lock(${SCHEMA_LOCK}); ${postgresSchema(this.#table)} COMMIT;`)
      .then(() => undefined, (error: unknown) => {
        this.#schema = undefined
        throw error
      })
    await this.#schema
    return pool
  }

  async write(record: SessionRecord): Promise<boolean> {
    const pool = await this.#ready()
    const { rows } = await pool.query<{ written: boolean }>(
      `SELECT ${this.#table}_write($1, $2, $3, $4, $5, $6, $7) AS written`,
      [record.id, record.sealed, record.expiresAt, record.createdAt, record.keys.sids, record.keys.sub ?? null, record.keys.iss ?? null])
    return rows[0]!.written
  }

  async read(id: string): Promise<StoredSession | undefined> {
    const pool = await this.#ready()
    const { rows } = await pool.query<SessionRow>(
      `SELECT id, payload, extract(epoch FROM expires_at)::bigint AS expires_at FROM ${this.#table} WHERE id = $1 AND expires_at > now()`,
      [id])
    return rows[0] && toStoredSession(rows[0])
  }

  async remove(id: string, removedAt: number, revocationSeconds: number): Promise<void> {
    const pool = await this.#ready()
    await pool.query(`SELECT ${this.#table}_remove($1, $2, $3)`, [id, removedAt, revocationSeconds])
  }

  async revoke(match: LogoutMatch, revokedKey: string, revokedAt: number, revocationSeconds: number): Promise<number> {
    const pool = await this.#ready()
    const { rows } = await pool.query<{ deleted: number }>(
      `SELECT ${this.#table}_revoke($1, $2, $3, $4, $5, $6) AS deleted`,
      [match.sid ?? null, match.sub ?? null, match.iss ?? null, revokedKey, revokedAt, revocationSeconds])
    return rows[0]!.deleted
  }

  async listByUser(subKey: string): Promise<StoredSession[]> {
    const pool = await this.#ready()
    const { rows } = await pool.query<SessionRow>(
      `SELECT id, payload, extract(epoch FROM expires_at)::bigint AS expires_at FROM ${this.#table} WHERE sub_key = $1 AND expires_at > now()`,
      [subKey])
    return rows.map(toStoredSession)
  }

  /** Run by the scheduled Nitro task `session-store:prune`: PostgreSQL has no native expiry. */
  async prune(): Promise<number> {
    const pool = await this.#ready()
    const sessions = await pool.query(`DELETE FROM ${this.#table} WHERE expires_at <= now()`)
    await pool.query(`DELETE FROM ${this.#table}_revocations WHERE expires_at <= now()`)
    return sessions.rowCount ?? 0
  }

  async ping(): Promise<void> {
    const pool = await this.#ready()
    await pool.query('SELECT 1')
  }

  async close(): Promise<void> {
    await this.#pool?.end()
    this.#pool = undefined
    this.#schema = undefined
  }
}

// TEMPORARY STUB: being rewritten to the new SessionBackend interface.
export default defineBackend({
  name: 'postgres',
  settings: (env): PostgresSettings => ({ connectionString: env.string('DATABASE_URL', 'postgres://postgres:postgres@localhost:5432/auth0_sessions'), table: env.sqlName('POSTGRES_SESSION_TABLE', 'auth0_sessions') }),
  defaultLocation: '',
  startHint: 'Start it with `docker compose up -d postgres`, or check DATABASE_URL.',
  create: settings => new PostgresBackend(settings) as never,
})
