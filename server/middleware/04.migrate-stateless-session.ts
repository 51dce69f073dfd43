import { CookieJar } from '../session-stores/cookie-jar'
import { EncryptedSessionStore } from '../session-stores/encrypted-session-store'
import { EnvReader } from '../session-stores/session-store-config'
import { SessionStoreUnavailableError } from '../session-stores/session-store-errors'
import { hasStatelessCookie, readMigrationSetting, SESSION_COOKIE, StatelessSessionMigration } from '../session-stores/stateless-session-migration'
import { countStatelessRequest, observeSessionCookies } from '../utils/session-metrics'
import getSessionStoreInstance from '../utils/session-store-factory'

// Read once, at start: a bad value stops the server with a message naming the variable.
const migrationOn = readMigrationSetting(new EnvReader(process.env))
let migration: StatelessSessionMigration | undefined

/**
 * A browser still carrying the SDK's stateless session cookie (from before SESSION_STORE named a
 * store) stays signed in: its session moves into the store on this request, which the SDK then
 * sees with the stateful cookie (docs/migration.md). Every request's session cookies are measured
 * for /api/metrics.
 */
export default defineEventHandler(async (event) => {
  const options = event.context.auth0ClientOptions
  if (!options) return
  const cookies = parseCookies(event)
  observeSessionCookies(cookies, SESSION_COOKIE)
  if (!hasStatelessCookie(cookies)) return

  const store = getSessionStoreInstance()
  // The SDK keeps sessions in cookies (SESSION_STORE=cookie, or its fallback, which session-store-guard answers with a 503).
  if (!migrationOn || !(store instanceof EncryptedSessionStore) || event.context.auth0SessionStore !== store) {
    countStatelessRequest(store && migrationOn ? 'store_unavailable' : 'not_migrated')
    return
  }
  migration ??= new StatelessSessionMigration(store, options)
  const jar = new CookieJar(cookies)
  try {
    const outcome = await migration.migrate(jar)
    if (outcome) countStatelessRequest(outcome)
  }
  catch (error) {
    if (error instanceof SessionStoreUnavailableError) countStatelessRequest('store_unavailable')
    throw error
  }
  jar.applyTo(event)
})
