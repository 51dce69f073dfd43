// A store whose server is down (or, embedded, whose folder cannot be written) fails fast with a
// message a person can act on, and never leaks a password.
import { describe, expect, it } from 'vitest'
import { createSessionStore } from '~/server/utils/session-store-factory'
import type { EncryptedSessionStore } from '~/server/session-stores/encrypted-session-store'
import { newSessionId, newStateData } from '../support/state-data'

const storeName = process.env.SESSION_STORE!
// An unwritable folder still reads as "no such session"; a server that is down fails every call.
const broken: Record<string, { env: Record<string, string>, address: string, hint: string, readsFail?: boolean }> = {
  embedded: { env: { EMBEDDED_STORE_DIR: '/dev/null/sessions' }, address: '/dev/null/sessions', hint: 'EMBEDDED_STORE_DIR', readsFail: false },
  redis: { env: { REDIS_URL: 'redis://:hunter2-password@localhost:1' }, address: 'localhost:1', hint: 'docker compose up -d redis' },
  postgres: { env: { DATABASE_URL: 'postgres://postgres:hunter2-password@localhost:1/auth0_sessions' }, address: 'localhost:1', hint: 'docker compose up -d postgres' },
  mongodb: { env: { MONGODB_URI: 'mongodb://root:hunter2-password@localhost:1/?authSource=admin' }, address: 'localhost:1', hint: 'docker compose up -d mongodb' },
}

describe(`the ${storeName} session store, when its server is down`, () => {
  it('refuses with a 503 error naming the store, the address without its password, and what to do', async () => {
    const { env, address, hint, readsFail = true } = broken[storeName]!
    const store = createSessionStore({ ...process.env, ...env }) as EncryptedSessionStore
    const calls: Array<() => Promise<unknown>> = [() => store.set(newSessionId(), newStateData()), () => store.ping()]
    if (readsFail) calls.push(() => store.get(newSessionId()))

    for (const call of calls) {
      const error = await call().then(() => undefined, (e: unknown) => e)
      expect(error).toMatchObject({ name: 'SessionStoreUnavailableError', statusCode: 503 })
      const message = (error as Error).message
      expect(message).toContain(`The ${storeName} session store at`)
      expect(message).toContain(address)
      expect(message).toContain(hint)
      expect(message).not.toContain('hunter2-password')
    }
    await store.close()
  })
})
