import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { EncryptedSessionStore } from '../session-stores/encrypted-session-store'
import type { MigrationOutcome } from '../session-stores/stateless-session-migration'
import getSessionStoreInstance from './session-store-factory'

/**
 * What /api/metrics shows: the app's own registry, not prom-client's global one, which any
 * dependency may fill and where a dev-server reload would register these names twice. Process
 * metrics are one line away: `collectDefaultMetrics({ register: sessionMetrics })`.
 */
export const sessionMetrics = new Registry()

/**
 * Besides a migration's outcomes: `not_migrated` (SESSION_STORE=cookie, or
 * SESSION_MIGRATE_STATELESS_COOKIES=false) and `store_unavailable` (a 503; the cookie is kept for the next request).
 */
export type StatelessRequestOutcome = MigrationOutcome | 'not_migrated' | 'store_unavailable'

const OUTCOMES: StatelessRequestOutcome[] = ['migrated', 'already_migrated', 'expired', 'unreadable', 'ended', 'superseded', 'not_migrated', 'store_unavailable']

const sessionsMigrated = new Counter({
  name: 'auth0_sessions_migrated_total',
  help: 'Sessions moved from the SDK\'s stateless cookie into the session store (once per session).',
  registers: [sessionMetrics],
})

const statelessRequests = new Counter({
  name: 'auth0_stateless_session_requests_total',
  help: 'Requests that arrived with the SDK\'s stateless session cookie, by what became of it.',
  labelNames: ['outcome'] as const,
  registers: [sessionMetrics],
})
// Every outcome from the start, at 0: a dashboard sees a series that stays at zero, not one that never appears.
for (const outcome of OUTCOMES) statelessRequests.labels({ outcome }).inc(0)

const sessionCookieBytes = new Histogram({
  name: 'auth0_session_cookie_bytes',
  help: 'Size of the session cookies (all __a0_session* of a request together, name=value) of requests that have one.',
  // A stateful cookie is about 300 bytes; stateless ones start around 1.5 KB and are cut into 3072-byte chunks.
  buckets: [256, 400, 512, 1024, 2048, 3072, 4096, 6144, 8192, 12_288, 16_384],
  registers: [sessionMetrics],
})

/** The near cache's counts (REDIS_NEAR_CACHE=true), read from the store when scraped; absent when it is off. */
function nearCache() {
  const store = getSessionStoreInstance()
  return store instanceof EncryptedSessionStore ? store.nearCache : undefined
}

new Counter({
  name: 'auth0_session_near_cache_reads_total',
  help: 'Session reads by whether the near cache answered (hit) or the store did (miss); none while the cache is off.',
  labelNames: ['result'] as const,
  registers: [sessionMetrics],
  collect() {
    const counts = nearCache()
    if (!counts) return
    this.reset()
    this.labels({ result: 'hit' }).inc(counts.hits)
    this.labels({ result: 'miss' }).inc(counts.misses)
  },
})

new Gauge({
  name: 'auth0_session_near_cache_entries',
  help: 'Opened sessions the near cache holds in this process.',
  registers: [sessionMetrics],
  collect() {
    const counts = nearCache()
    if (counts) this.set(counts.size)
  },
})

/** Observes the size of the request's session cookies, if it has any: O(cookies), no store call. */
export function observeSessionCookies(cookies: Record<string, string>, cookieName: string): void {
  let bytes = 0
  for (const name in cookies) {
    if (name.startsWith(cookieName)) bytes += name.length + 1 + cookies[name]!.length
  }
  if (bytes > 0) sessionCookieBytes.observe(bytes)
}

export function countStatelessRequest(outcome: StatelessRequestOutcome): void {
  statelessRequests.labels({ outcome }).inc()
  if (outcome === 'migrated') sessionsMigrated.inc()
}
