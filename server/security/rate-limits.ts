import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible'
import { EnvReader } from '../session-stores/session-store-config'
import type { AppSessionStore } from '../utils/session-store-factory'
import { EncryptedSessionStore } from '../session-stores/encrypted-session-store'

/** What is limited, per client address unless `global`; each limit is its own env variable (requests per minute). */
const LIMITS = {
  signIn: { variable: 'RATE_LIMIT_SIGN_IN_PER_MINUTE', perMinute: 30 },
  backchannelLogout: { variable: 'RATE_LIMIT_BACKCHANNEL_LOGOUT_PER_MINUTE', perMinute: 60 },
  backchannelLogoutGlobal: { variable: 'RATE_LIMIT_BACKCHANNEL_LOGOUT_GLOBAL_PER_MINUTE', perMinute: 600 },
  appPost: { variable: 'RATE_LIMIT_APP_POST_PER_MINUTE', perMinute: 60 },
} as const

export type LimitName = keyof typeof LIMITS

export interface RateLimitSettings {
  perMinute: Record<LimitName, number>
  /** Take the client's address from X-Forwarded-For (behind a proxy you run), not from the socket. */
  trustProxy: boolean
}

export function readRateLimitSettings(env: EnvReader): RateLimitSettings {
  const perMinute = Object.fromEntries(Object.entries(LIMITS).map(([name, limit]) =>
    [name, env.integer(limit.variable, limit.perMinute, { min: 1, max: 1_000_000 })])) as Record<LimitName, number>
  return { perMinute, trustProxy: env.flag('TRUST_PROXY', false) }
}

/** Refused: how long until the next request of this kind would be allowed, in whole seconds (Retry-After). */
export class RateLimited extends Error {
  override readonly name = 'RateLimited'
  readonly retryAfterSeconds: number

  constructor(limit: LimitName, retryAfterSeconds: number) {
    super(`Too many requests (${limit}); try again in ${retryAfterSeconds} s.`)
    this.retryAfterSeconds = retryAfterSeconds
  }
}

/**
 * Rate limiters that count in the session store, so that every app server shares the counts
 * (rate-limiter-flexible on the backend's own client). While the store is down, or with
 * SESSION_STORE=cookie, each process counts in memory instead.
 */
export class RateLimits {
  readonly #limiters: Record<LimitName, RateLimiterAbstract>

  constructor(store: AppSessionStore | undefined, settings: RateLimitSettings) {
    this.#limiters = Object.fromEntries((Object.keys(LIMITS) as LimitName[]).map((name) => {
      const limit = { keyPrefix: name, points: settings.perMinute[name], duration: 60 }
      const memory = new RateLimiterMemory(limit)
      return [name, store instanceof EncryptedSessionStore ? store.rateLimiter({ ...limit, insuranceLimiter: memory }) : memory]
    })) as Record<LimitName, RateLimiterAbstract>
  }

  /** Counts one request of `key` against `limit`; throws RateLimited when it is over. */
  async consume(limit: LimitName, key: string): Promise<void> {
    try {
      await this.#limiters[limit].consume(key)
    }
    catch (error) {
      if (error instanceof RateLimiterRes) throw new RateLimited(limit, Math.max(1, Math.ceil(error.msBeforeNext / 1000)))
      throw error
    }
  }
}
