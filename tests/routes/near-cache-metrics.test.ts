// The near cache, on (REDIS_NEAR_CACHE=true), as an operator sees it in /api/metrics.
import { fetch } from '@nuxt/test-utils/e2e'
import { afterAll, describe, expect, it } from 'vitest'
import { dropStoreData, newNamespace } from '../support/test-namespaces'
import { HEALTH_DETAILS_TOKEN, SESSION_STORE_SECRET, setupBuiltServer } from './built-server'

const store = { SESSION_STORE: 'redis', REDIS_URL: process.env.REDIS_URL ?? 'redis://localhost:6379', REDIS_KEY_PREFIX: `auth0-test-${newNamespace()}:` }

describe('a Redis store with the near cache on', async () => {
  await setupBuiltServer({ ...store, REDIS_NEAR_CACHE: 'true' })
  afterAll(() => dropStoreData({ ...store, SESSION_STORE_SECRET }))

  it('shows its hits, misses and entries in /api/metrics', async () => {
    const metrics = await (await fetch('/api/metrics', { headers: { authorization: `Bearer ${HEALTH_DETAILS_TOKEN}` } })).text()
    expect(metrics).toMatch(/^auth0_session_near_cache_reads_total\{result="hit"\} 0$/m)
    expect(metrics).toMatch(/^auth0_session_near_cache_reads_total\{result="miss"\} 0$/m)
    expect(metrics).toMatch(/^auth0_session_near_cache_entries 0$/m)
  })
})
