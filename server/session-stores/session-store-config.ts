import type { SessionDurations } from './session-expiry'

export type Env = Record<string, string | undefined>

/** A setting that cannot work; the message names the variable, the value seen and what is allowed. */
export class SessionStoreConfigError extends Error {
  override readonly name = 'SessionStoreConfigError'
}

// At most 36 characters: PostgreSQL cuts names at 63, and the longest derived one adds 27.
const SQL_IDENTIFIER = /^[a-z_][a-z0-9_]{0,35}$/

/** Reads environment variables, each validated once; every backend's `settings` gets one. */
export class EnvReader {
  readonly #env: Env

  constructor(env: Env) {
    this.#env = env
  }

  /** The trimmed value, or undefined when unset or blank. */
  optional(name: string): string | undefined {
    const value = this.#env[name]?.trim()
    return value ? value : undefined
  }

  string(name: string, fallback: string): string {
    return this.optional(name) ?? fallback
  }

  /** A whole number in [min, max]. */
  integer(name: string, fallback: number, { min = 1, max = Number.MAX_SAFE_INTEGER, unit = '' } = {}): number {
    const raw = this.optional(name)
    if (raw === undefined) return fallback
    const value = Number(raw)
    if (!Number.isInteger(value) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`
      throw new SessionStoreConfigError(`${name} must be a whole number${unit} ${range}; got "${raw}".`)
    }
    return value
  }

  flag(name: string, fallback: boolean): boolean {
    const raw = this.optional(name)
    if (raw === undefined) return fallback
    if (raw === 'true' || raw === 'false') return raw === 'true'
    throw new SessionStoreConfigError(`${name} must be "true" or "false"; got "${raw}".`)
  }

  /** A lower-case SQL name, safe to put in a statement. */
  sqlName(name: string, fallback: string): string {
    const value = this.string(name, fallback)
    if (!SQL_IDENTIFIER.test(value)) {
      throw new SessionStoreConfigError(
        `${name} must be a lower-case SQL name (letters, digits, _; at most 36 characters); got "${value}".`)
    }
    return value
  }
}

/** The SDK's own defaults (3 days absolute, 1 day inactivity, rolling): the store must agree with them. */
export function readSessionDurations(env: EnvReader): SessionDurations {
  return {
    absoluteDuration: env.integer('NUXT_AUTH0_SESSION_CONFIGURATION_ABSOLUTE_DURATION', 259_200, { unit: ' of seconds' }),
    inactivityDuration: env.integer('NUXT_AUTH0_SESSION_CONFIGURATION_INACTIVITY_DURATION', 86_400, { unit: ' of seconds' }),
    rolling: env.flag('NUXT_AUTH0_SESSION_CONFIGURATION_ROLLING', true),
  }
}

/** What every backend shares, whatever the database. */
export interface StoreSettings {
  secret: string
  durations: SessionDurations
  /** How long one store call may take before it fails as an outage (SESSION_STORE_TIMEOUT_MS). */
  timeoutMs: number
  /** Live sessions one user may hold; a new one ends the oldest (SESSION_STORE_MAX_SESSIONS_PER_USER). */
  maxSessionsPerUser: number
}

export function readStoreSettings(env: EnvReader): StoreSettings {
  const secret = env.optional('SESSION_STORE_SECRET') ?? env.optional('NUXT_AUTH0_SESSION_SECRET')
  if (!secret || secret.length < 32) {
    throw new SessionStoreConfigError(
      'SESSION_STORE_SECRET (or NUXT_AUTH0_SESSION_SECRET) must hold at least 32 characters to encrypt sessions at rest; '
      + `got ${secret ? `${secret.length} characters` : 'nothing'}. Generate one with: openssl rand -hex 32`)
  }
  return {
    secret,
    durations: readSessionDurations(env),
    timeoutMs: env.integer('SESSION_STORE_TIMEOUT_MS', 1000, { min: 50, max: 60_000, unit: ' of milliseconds' }),
    maxSessionsPerUser: env.integer('SESSION_STORE_MAX_SESSIONS_PER_USER', 50, { min: 1, max: 1000 }),
  }
}

// Query parameters that hold a secret in some client's URL syntax (pg's password=, Redis Sentinel's
// sentinelPassword=, MongoDB's authMechanismProperties=...); authSource and authMechanism name no secret.
const SECRET_PARAMETER = /pass|pwd|secret|token|key|auth(?!source$|mechanism$)|credential/i

/**
 * A connection URL fit for logs, error pages and /api/health: the password in the userinfo and
 * every secret-looking query parameter become ***. Works on host lists (`h1:1,h2:2`), which
 * `new URL()` refuses, and errs towards hiding: where an `@` is ambiguous, more is hidden, never less.
 */
export function redactUrl(url: string): string {
  const scheme = /^[a-z][\w+.-]*:\/\//i.exec(url)?.[0]
  if (!scheme) return '(not a URL: not shown)'
  let rest = url.slice(scheme.length)
  // The userinfo ends at the last @, wherever a / falls (a password may hold one, unencoded).
  const at = rest.lastIndexOf('@')
  let userinfo = ''
  if (at !== -1) {
    const credentials = rest.slice(0, at)
    // An @ after a ? is either in a password or in a query: which one is unclear, so show nothing.
    if (credentials.includes('?')) return `${scheme}***`
    const colon = credentials.indexOf(':')
    userinfo = colon === -1 ? `${credentials}@` : `${credentials.slice(0, colon)}:***@`
    rest = rest.slice(at + 1)
  }
  const question = rest.indexOf('?')
  if (question !== -1) {
    const parameters = rest.slice(question + 1).split(/([&;])/).map((part) => {
      const equals = part.indexOf('=')
      return equals !== -1 && SECRET_PARAMETER.test(part.slice(0, equals)) ? `${part.slice(0, equals)}=***` : part
    })
    rest = `${rest.slice(0, question)}?${parameters.join('')}`
  }
  return `${scheme}${userinfo}${rest}`
}
