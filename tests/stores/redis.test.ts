import { describe, expect, it } from 'vitest'
import { createSessionStore } from '~/server/utils/session-store-factory'
import type { EncryptedSessionStore } from '~/server/session-stores/encrypted-session-store'
import { missingServerBinary, startRedisServer } from '../support/disposable-servers'
import { newSessionId, newStateData } from '../support/state-data'
import { namespacesInRedis } from '../support/test-namespaces'
import { TEST_SECRET, testSessionStore } from './session-store-contract'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://localhost:6379'
const PREFIX = 'auth0-test-'

testSessionStore({
  name: 'redis',
  env: namespace => ({ REDIS_URL, REDIS_KEY_PREFIX: `${PREFIX}${namespace}:` }),
  namespacesHeld: () => namespacesInRedis({ REDIS_URL }, PREFIX),
  unreachable: { env: { REDIS_URL: 'redis://:hunter2@localhost:1' }, address: 'localhost:1' },
  disposable: { start: () => startRedisServer(), env: server => ({ REDIS_URL: server.url }) },
})

describe.skipIf(missingServerBinary('redis'))('a Redis that would lose sessions', () => {
  it('is refused when its maxmemory-policy evicts keys, with a message naming the setting and the fix', async () => {
    const server = await startRedisServer(['--maxmemory-policy', 'volatile-lru'])
    const store = createSessionStore({ SESSION_STORE: 'redis', SESSION_STORE_SECRET: TEST_SECRET, REDIS_URL: server.url }) as EncryptedSessionStore
    try {
      for (const call of [() => store.ping(), () => store.set(newSessionId(), newStateData())]) {
        await expect(call()).rejects.toMatchObject({
          statusCode: 503,
          message: expect.stringMatching(/maxmemory-policy is "volatile-lru".*Set maxmemory-policy noeviction/),
        })
      }
    }
    finally {
      await store.close()
      await server.close()
    }
  })
})
