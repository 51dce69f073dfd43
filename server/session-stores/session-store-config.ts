import type { SessionDurations } from './session-expiry'

/** The backends `SESSION_STORE` can name; `cookie` means the SDK's stateless cookie sessions. */
export const SESSION_STORE_KINDS = ['embedded', 'redis', 'mongodb', 'postgres', 'cookie'] as const
export type SessionStoreKind = (typeof SESSION_STORE_KINDS)[number]

export type BackendConfig =
  | { kind: 'embedded', directory: string }
  | { kind: 'redis', url: string, keyPrefix: string }
  | { kind: 'mongodb', uri: string, database: string, collection: string }
  | { kind: 'postgres', connectionString: string, table: string }

export type SessionStoreConfig =
  | { kind: 'cookie' }
  | { kind: Exclude<SessionStoreKind, 'cookie'>, backend: BackendConfig, secret: string, durations: SessionDurations }

type Env = Record<string, string | undefined>

/** A setting that cannot work; the message names the variable, the value seen and what is allowed. */
export class SessionStoreConfigError extends Error {
  override readonly name = 'SessionStoreConfigError'
}

// At most 36 characters: PostgreSQL cuts names at 63, and the longest derived one adds 27.
const SQL_IDENTIFIER = /^[a-z_][a-z0-9_]{0,35}$/

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim()
  return value ? value : undefined
}

function positiveSeconds(env: Env, name: string, fallback: number): number {
  const raw = read(env, name)
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value <= 0) {
    throw new SessionStoreConfigError(`${name} must be a whole number of seconds above 0; got "${raw}".`)
  }
  return value
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = read(env, name)
  if (raw === undefined) return fallback
  if (raw === 'true' || raw === 'false') return raw === 'true'
  throw new SessionStoreConfigError(`${name} must be "true" or "false"; got "${raw}".`)
}

/** The SDK's own defaults (3 days absolute, 1 day inactivity, rolling): the store must agree with them. */
export function readSessionDurations(env: Env): SessionDurations {
  return {
    absoluteDuration: positiveSeconds(env, 'NUXT_AUTH0_SESSION_CONFIGURATION_ABSOLUTE_DURATION', 259_200),
    inactivityDuration: positiveSeconds(env, 'NUXT_AUTH0_SESSION_CONFIGURATION_INACTIVITY_DURATION', 86_400),
    rolling: flag(env, 'NUXT_AUTH0_SESSION_CONFIGURATION_ROLLING', true),
  }
}

// The defaults are docker-compose.yml's development servers: fine on a laptop, never in production.
function postgresConnectionString(env: Env): string {
  const url = read(env, 'DATABASE_URL')
  if (url) return url
  const host = read(env, 'PGHOST') ?? 'localhost'
  const port = read(env, 'PGPORT') ?? '5432'
  const user = encodeURIComponent(read(env, 'PGUSER') ?? 'postgres')
  const password = encodeURIComponent(read(env, 'PGPASSWORD') ?? 'postgres')
  const database = read(env, 'PGDATABASE') ?? 'auth0_sessions'
  return `postgres://${user}:${password}@${host}:${port}/${database}`
}

function backendConfig(kind: Exclude<SessionStoreKind, 'cookie'>, env: Env): BackendConfig {
  switch (kind) {
    case 'embedded':
      return { kind, directory: read(env, 'EMBEDDED_STORE_DIR') ?? '.data/sessions' }
    case 'redis':
      return {
        kind,
        url: read(env, 'REDIS_URL') ?? 'redis://localhost:6379',
        keyPrefix: read(env, 'REDIS_KEY_PREFIX') ?? 'auth0:',
      }
    case 'mongodb':
      return {
        kind,
        uri: read(env, 'MONGODB_URI') ?? 'mongodb://root:mongodb@localhost:27017/?authSource=admin',
        database: read(env, 'MONGODB_DATABASE') ?? 'auth0_sessions',
        collection: read(env, 'MONGODB_COLLECTION') ?? 'sessions',
      }
    case 'postgres': {
      const table = read(env, 'POSTGRES_SESSION_TABLE') ?? 'auth0_sessions'
      if (!SQL_IDENTIFIER.test(table)) {
        throw new SessionStoreConfigError(
          `POSTGRES_SESSION_TABLE must be a lower-case SQL name (letters, digits, _; at most 36 characters); got "${table}".`)
      }
      return { kind, connectionString: postgresConnectionString(env), table }
    }
  }
}

/** Reads and validates every session store setting; throws SessionStoreConfigError on the first bad one. */
export function readSessionStoreConfig(env: Env): SessionStoreConfig {
  const raw = read(env, 'SESSION_STORE') ?? 'embedded'
  const kind = SESSION_STORE_KINDS.find(known => known === raw.toLowerCase())
  if (!kind) {
    throw new SessionStoreConfigError(
      `SESSION_STORE="${raw}" is not a session store. Use one of: ${SESSION_STORE_KINDS.join(', ')} (unset means embedded).`)
  }
  if (kind === 'cookie') return { kind }

  const secret = read(env, 'SESSION_STORE_SECRET') ?? read(env, 'NUXT_AUTH0_SESSION_SECRET')
  if (!secret || secret.length < 32) {
    throw new SessionStoreConfigError(
      'SESSION_STORE_SECRET (or NUXT_AUTH0_SESSION_SECRET) must hold at least 32 characters to encrypt sessions at rest; '
      + `got ${secret ? `${secret.length} characters` : 'nothing'}. Generate one with: openssl rand -hex 32`)
  }
  return { kind, backend: backendConfig(kind, env), secret, durations: readSessionDurations(env) }
}

/** A connection URL fit for logs and error pages: the password is replaced by ***. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  }
  catch {
    return '(an unparsable URL)'
  }
}
