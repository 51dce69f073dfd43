import { describe, expect, it } from 'vitest'
import { backends, readSessionStoreConfig } from '~/server/session-stores/backends'
import { redactUrl } from '~/server/session-stores/session-store-config'
import { createSessionStore } from '~/server/utils/session-store-factory'
import { UnavailableSessionStore } from '~/server/session-stores/unavailable-session-store'

const secret = 'x'.repeat(32)

function backendSettings(env: Record<string, string>) {
  const config = readSessionStoreConfig(env)
  if (config.kind === 'cookie') throw new Error('expected a backend')
  return config.backendSettings
}

describe('choosing the session store with SESSION_STORE', () => {
  it('defaults to the embedded store, which needs no server', () => {
    expect(readSessionStoreConfig({ NUXT_AUTH0_SESSION_SECRET: secret })).toMatchObject({
      kind: 'embedded', backendSettings: { directory: '.data/sessions' }, defaulted: true,
    })
  })

  it('reads each backend\'s usual connection variables, with defaults that match docker-compose.yml', () => {
    expect(backendSettings({ SESSION_STORE: 'redis', SESSION_STORE_SECRET: secret }))
      .toMatchObject({ topology: { kind: 'standalone', url: 'redis://localhost:6379' }, keyPrefix: 'auth0:', waitForReplicas: 0 })
    expect(backendSettings({ SESSION_STORE: 'postgres', SESSION_STORE_SECRET: secret }))
      .toMatchObject({ connectionString: 'postgres://postgres:postgres@localhost:5432/auth0_sessions', table: 'auth0_sessions' })
    expect(backendSettings({ SESSION_STORE: 'Postgres', SESSION_STORE_SECRET: secret, PGHOST: 'db', PGUSER: 'app', PGPASSWORD: 'p@ss' }))
      .toMatchObject({ connectionString: 'postgres://app:p%40ss@db:5432/auth0_sessions' })
    expect(backendSettings({ SESSION_STORE: 'mongodb', SESSION_STORE_SECRET: secret }))
      .toMatchObject({ uri: 'mongodb://root:mongodb@localhost:27017/?authSource=admin' })
    expect(backendSettings({ SESSION_STORE: 'mongodb', SESSION_STORE_SECRET: secret, MONGODB_URI: 'mongodb://m:27017' }))
      .toEqual({ uri: 'mongodb://m:27017', database: 'auth0_sessions', collection: 'sessions' })
  })

  it('every backend in the registry names its default address and what to do when it is down', () => {
    for (const [name, backend] of Object.entries(backends)) {
      expect(backend.name).toBe(name)
      expect(backend.startHint).toMatch(/\S/)
      expect(backend.defaultLocation).toMatch(/\S/)
    }
  })

  it('names the variable, the value seen and the allowed values when SESSION_STORE is wrong', () => {
    expect(() => readSessionStoreConfig({ SESSION_STORE: 'memcached', SESSION_STORE_SECRET: secret }))
      .toThrow(`SESSION_STORE="memcached" is not a session store. Use one of: ${Object.keys(backends).join(', ')}, cookie`)
  })

  it('refuses a missing or short encryption secret, and says how to make one', () => {
    expect(() => readSessionStoreConfig({ SESSION_STORE: 'redis' })).toThrow(/SESSION_STORE_SECRET .* got nothing\. Generate one with: openssl rand -hex 32/)
    expect(() => readSessionStoreConfig({ SESSION_STORE: 'redis', SESSION_STORE_SECRET: 'short' })).toThrow('got 5 characters')
  })

  it('refuses durations, deadlines, caps and table names that cannot work', () => {
    expect(() => readSessionStoreConfig({ SESSION_STORE_SECRET: secret, NUXT_AUTH0_SESSION_CONFIGURATION_INACTIVITY_DURATION: '1h' }))
      .toThrow('NUXT_AUTH0_SESSION_CONFIGURATION_INACTIVITY_DURATION must be a whole number of seconds 1 or more; got "1h".')
    expect(() => readSessionStoreConfig({ SESSION_STORE_SECRET: secret, NUXT_AUTH0_SESSION_CONFIGURATION_ROLLING: 'yes' }))
      .toThrow('NUXT_AUTH0_SESSION_CONFIGURATION_ROLLING must be "true" or "false"')
    expect(() => readSessionStoreConfig({ SESSION_STORE_SECRET: secret, SESSION_STORE_TIMEOUT_MS: '0' }))
      .toThrow('SESSION_STORE_TIMEOUT_MS must be a whole number of milliseconds from 50 to 60000; got "0".')
    expect(() => readSessionStoreConfig({ SESSION_STORE_SECRET: secret, SESSION_STORE_MAX_SESSIONS_PER_USER: 'many' }))
      .toThrow('SESSION_STORE_MAX_SESSIONS_PER_USER must be a whole number from 1 to 1000; got "many".')
    expect(() => readSessionStoreConfig({ SESSION_STORE: 'postgres', SESSION_STORE_SECRET: secret, POSTGRES_SESSION_TABLE: 'sessions; DROP TABLE users' }))
      .toThrow('POSTGRES_SESSION_TABLE must be a lower-case SQL name')
  })

  it('has safe defaults: a 1 s deadline per call and at most 50 sessions per user', () => {
    expect(readSessionStoreConfig({ SESSION_STORE_SECRET: secret })).toMatchObject({ store: { timeoutMs: 1000, maxSessionsPerUser: 50 } })
  })

  it('SESSION_STORE=cookie asks for the SDK\'s stateless cookie sessions: the factory returns no store', () => {
    expect(readSessionStoreConfig({ SESSION_STORE: 'cookie' })).toEqual({ kind: 'cookie' })
    expect(createSessionStore({ SESSION_STORE: 'cookie' })).toBeUndefined()
  })

  it('the factory never throws (the SDK would fall back to cookies): a bad setting gives a store that says why', async () => {
    const store = createSessionStore({ SESSION_STORE: 'memcached', SESSION_STORE_SECRET: secret })
    expect(store).toBeInstanceOf(UnavailableSessionStore)
    await expect(store!.get('any')).rejects.toMatchObject({ statusCode: 503, message: expect.stringContaining('SESSION_STORE="memcached"') })
  })
})

describe('addresses shown in logs, pages and /api/health', () => {
  const shown: Array<[string, string]> = [
    ['redis://:hunter2@cache:6379/0', 'redis://:***@cache:6379/0'],
    ['rediss://default:hunter2@cache:6380', 'rediss://default:***@cache:6380'],
    ['postgres://app:hunter2@db:5432/sessions', 'postgres://app:***@db:5432/sessions'],
    ['postgres://db:5432/sessions?sslmode=require&password=hunter2', 'postgres://db:5432/sessions?sslmode=require&password=***'],
    ['redis://cache:6379?password=hunter2', 'redis://cache:6379?password=***'],
    ['redis+sentinel://s1:26379,s2:26379/mymaster?sentinelPassword=hunter2', 'redis+sentinel://s1:26379,s2:26379/mymaster?sentinelPassword=***'],
    ['mongodb://root:hunter2@a:27017,b:27017/?replicaSet=rs0&authSource=admin', 'mongodb://root:***@a:27017,b:27017/?replicaSet=rs0&authSource=admin'],
    ['mongodb://a:27017/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:hunter2', 'mongodb://a:27017/?authMechanism=MONGODB-AWS&authMechanismProperties=***'],
    ['redis://:hunter@2@cache:6379', 'redis://:***@cache:6379'],
    ['redis://:hunter/2@cache:6379', 'redis://:***@cache:6379'],
    ['redis://cache?password=a@hunter2', 'redis://***'],
    ['redis://:ab?hunter2@cache:6379', 'redis://***'],
  ]
  for (const [url, redacted] of shown) {
    it(`shows ${url.split('://')[0]}://… without its secret: ${redacted}`, () => {
      expect(redactUrl(url)).toBe(redacted)
    })
  }

  it('shows nothing of what is not a URL', () => {
    expect(redactUrl('not a url hunter2')).not.toContain('hunter2')
  })
})
