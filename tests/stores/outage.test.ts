// A store whose server is down fails fast with a message a person can act on, and never leaks a password.
import { describe, expect, it } from 'vitest'
import { createSessionStore } from '~/server/utils/session-store-factory'
import type { EncryptedSessionStore } from '~/server/session-stores/encrypted-session-store'
import { newSessionId, newStateData } from '../support/state-data'

const storeName = process.env.SESSION_STORE!
const unreachable: Record<string, Record<string, string>> = {
  redis: { REDIS_URL: 'redis://:hunter2-password@localhost:1' },
  postgres: { DATABASE_URL: 'postgres://postgres:hunter2-password@localhost:1/auth0_sessions' },
  mongodb: { MONGODB_URI: 'mongodb://root:hunter2-password@localhost:1/?authSource=admin' },
}

describe.skipIf(!unreachable[storeName])(`the ${storeName} session store, when its server is down`, () => {
  it('refuses with a 503 error naming the store, the address without its password, and what to run', async () => {
    const store = createSessionStore({ ...process.env, ...unreachable[storeName] }) as EncryptedSessionStore

    for (const call of [() => store.get(newSessionId()), () => store.set(newSessionId(), newStateData()), () => store.ping()]) {
      const error = await call().then(() => undefined, (e: unknown) => e)
      expect(error).toMatchObject({ name: 'SessionStoreUnavailableError', statusCode: 503 })
      const message = (error as Error).message
      expect(message).toContain(`The ${storeName} session store at`)
      expect(message).toContain('localhost:1')
      expect(message).toContain(`docker compose up -d ${storeName}`)
      expect(message).not.toContain('hunter2-password')
    }
    await store.close()
  })
})
