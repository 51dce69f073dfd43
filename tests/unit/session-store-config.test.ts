import { describe, expect, it } from 'vitest'
import { readSessionStoreConfig, redactUrl } from '~/server/session-stores/session-store-config'
import { createSessionStore } from '~/server/utils/session-store-factory'
import { UnavailableSessionStore } from '~/server/session-stores/unavailable-session-store'

const secret = 'x'.repeat(32)

describe('choosing the session store with SESSION_STORE', () => {
  it('defaults to the embedded store, which needs no server', () => {
    expect(readSessionStoreConfig({ NUXT_AUTH0_SESSION_SECRET: secret })).toMatchObject({
      kind: 'embedded', backend: { kind: 'embedded', directory: '.data/sessions' },
    })
  })

  it('reads each backend\'s usual connection variables, with defaults that match docker-compose.yml', () => {
    expect(readSessionStoreConfig({ SESSION_STORE: 'redis', SESSION_STORE_SECRET: secret })).toMatchObject({
      backend: { url: 'redis://localhost:6379', keyPrefix: 'auth0:' },
    })
    expect(readSessionStoreConfig({ SESSION_STORE: 'postgres', SESSION_STORE_SECRET: secret })).toMatchObject({
      backend: { connectionString: 'postgres://postgres:postgres@localhost:5432/auth0_sessions', table: 'auth0_sessions' },
    })
    expect(readSessionStoreConfig({ SESSION_STORE: 'Postgres', SESSION_STORE_SECRET: secret, PGHOST: 'db', PGUSER: 'app', PGPASSWORD: 'p@ss' })).toMatchObject({
      kind: 'postgres', backend: { connectionString: 'postgres://app:p%40ss@db:5432/auth0_sessions' },
    })
    expect(readSessionStoreConfig({ SESSION_STORE: 'mongodb', SESSION_STORE_SECRET: secret })).toMatchObject({
      backend: { uri: 'mongodb://root:mongodb@localhost:27017/?authSource=admin' },
    })
    expect(readSessionStoreConfig({ SESSION_STORE: 'mongodb', SESSION_STORE_SECRET: secret, MONGODB_URI: 'mongodb://m:27017' })).toMatchObject({
      backend: { uri: 'mongodb://m:27017', database: 'auth0_sessions', collection: 'sessions' },
    })
  })

  it('names the variable, the value seen and the allowed values when SESSION_STORE is wrong', () => {
    expect(() => readSessionStoreConfig({ SESSION_STORE: 'memcached', SESSION_STORE_SECRET: secret }))
      .toThrow('SESSION_STORE="memcached" is not a session store. Use one of: embedded, redis, mongodb, postgres, cookie')
  })

  it('refuses a missing or short encryption secret, and says how to make one', () => {
    expect(() => readSessionStoreConfig({ SESSION_STORE: 'redis' })).toThrow(/SESSION_STORE_SECRET .* got nothing\. Generate one with: openssl rand -hex 32/)
    expect(() => readSessionStoreConfig({ SESSION_STORE: 'redis', SESSION_STORE_SECRET: 'short' })).toThrow('got 5 characters')
  })

  it('refuses durations and table names that cannot work', () => {
    expect(() => readSessionStoreConfig({ SESSION_STORE_SECRET: secret, NUXT_AUTH0_SESSION_CONFIGURATION_INACTIVITY_DURATION: '1h' }))
      .toThrow('NUXT_AUTH0_SESSION_CONFIGURATION_INACTIVITY_DURATION must be a whole number of seconds above 0; got "1h".')
    expect(() => readSessionStoreConfig({ SESSION_STORE_SECRET: secret, NUXT_AUTH0_SESSION_CONFIGURATION_ROLLING: 'yes' }))
      .toThrow('NUXT_AUTH0_SESSION_CONFIGURATION_ROLLING must be "true" or "false"')
    expect(() => readSessionStoreConfig({ SESSION_STORE: 'postgres', SESSION_STORE_SECRET: secret, POSTGRES_SESSION_TABLE: 'sessions; DROP TABLE users' }))
      .toThrow('POSTGRES_SESSION_TABLE must be a lower-case SQL name')
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

  it('keeps passwords out of the addresses it logs', () => {
    expect(redactUrl('redis://:hunter2@cache:6379/0')).toBe('redis://:***@cache:6379/0')
    expect(redactUrl('postgres://app:hunter2@db:5432/sessions')).toBe('postgres://app:***@db:5432/sessions')
    expect(redactUrl('not a url hunter2')).not.toContain('hunter2')
  })
})
