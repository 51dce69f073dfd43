import { describe, expect, it } from 'vitest'
import { readRedisSettings } from '~/server/session-stores/backends/redis-connection'
import { EnvReader } from '~/server/session-stores/session-store-config'

const settings = (env: Record<string, string>) => readRedisSettings(new EnvReader(env))

describe('how the Redis store reaches Redis', () => {
  it('takes one server from REDIS_URL, as before, and waits for no replica', () => {
    expect(settings({ REDIS_URL: 'rediss://:hunter2@cache:6380' })).toMatchObject({
      topology: { kind: 'standalone', url: 'rediss://:hunter2@cache:6380' }, waitForReplicas: 0, location: 'rediss://:***@cache:6380',
    })
  })

  it('takes a Cluster from REDIS_CLUSTER_NODES with the password and TLS beside it, and waits for one replica', () => {
    expect(settings({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7001,[::1]:7002', REDIS_PASSWORD: 'hunter2', REDIS_TLS: 'true' })).toEqual({
      topology: { kind: 'cluster', nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }, { host: '::1', port: 7002 }] },
      username: undefined, password: 'hunter2', tls: true, keyPrefix: 'auth0:', waitForReplicas: 1,
      location: 'rediss+cluster://10.0.0.1:7000,10.0.0.2:7001,[::1]:7002',
    })
  })

  it('takes a Cluster or Sentinel from a redis+cluster:// or redis+sentinel:// URL, credentials included', () => {
    expect(settings({ REDIS_URL: 'rediss+cluster://app:p%40ss@c1:7000,c2:7000' })).toMatchObject({
      topology: { kind: 'cluster', nodes: [{ host: 'c1', port: 7000 }, { host: 'c2', port: 7000 }] }, username: 'app', password: 'p@ss', tls: true,
    })
    expect(settings({ REDIS_URL: 'redis+sentinel://:hunter2@s1:26379,s2:26379/sessions', REDIS_SENTINEL_PASSWORD: 'guard' })).toMatchObject({
      topology: { kind: 'sentinel', sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }], name: 'sessions', sentinelPassword: 'guard' },
      password: 'hunter2', waitForReplicas: 1, location: 'redis+sentinel://s1:26379,s2:26379/sessions',
    })
    expect(settings({ REDIS_SENTINELS: 's1:26379', REDIS_WAIT_FOR_REPLICAS: '0' })).toMatchObject({ topology: { name: 'mymaster' }, waitForReplicas: 0 })
  })

  it('says which setting is wrong, and never shows a password', () => {
    expect(() => settings({ REDIS_CLUSTER_NODES: 'c1:7000,c2' })).toThrow('REDIS_CLUSTER_NODES must list host:port pairs separated by commas (for example "10.0.0.1:7000,10.0.0.2:7000"); "c2" is not one.')
    expect(() => settings({ REDIS_CLUSTER_NODES: 'c1:7000', REDIS_SENTINELS: 's1:26379' })).toThrow('REDIS_CLUSTER_NODES and REDIS_SENTINELS both say how to reach Redis: set one of them.')
    expect(() => settings({ REDIS_URL: 'redis+cluster://:hunter2@c1:99999' })).toThrow('REDIS_URL must list host:port pairs')
    expect(() => settings({ REDIS_CLUSTER_NODES: 'c1:99999' })).toThrow('"c1:99999" is not one')
    expect(() => settings({ REDIS_URL: 'http://:hunter2@cache:6379' })).toThrow('REDIS_URL must start with redis://, rediss://, redis+cluster:// or redis+sentinel://; got http://:***@cache:6379.')
    expect(() => settings({ REDIS_URL: 'http://:hunter2@cache:6379' })).not.toThrow(/hunter2/)
    // Credentials in a node list, a bad escape in a password, a bad host after one: named, never shown.
    for (const env of <Array<Record<string, string>>>[
      { REDIS_CLUSTER_NODES: 'default:hunter2@10.0.0.1:7000' },
      { REDIS_SENTINELS: 's1:26379,default:hunter2@s2' },
      { REDIS_URL: 'redis+cluster://app:hunter2%@c1:7000' },
      { REDIS_URL: 'redis+cluster://app:hunter2@c1' },
    ]) {
      const error = (() => { try { settings(env) } catch (thrown) { return thrown as Error } })()
      expect(error?.name).toBe('SessionStoreConfigError')
      expect(error?.message).not.toMatch(/hunter2|hun\/ter2|ter2/)
    }
    // A / or ? in a password, unencoded: the credentials end at the last @.
    expect(settings({ REDIS_URL: 'redis+cluster://app:hun/ter2@c1:7000' })).toMatchObject({ password: 'hun/ter2', topology: { nodes: [{ host: 'c1', port: 7000 }] } })
    expect(settings({ REDIS_URL: 'redis+sentinel://app:hun?ter2@s1:26379/sessions' })).toMatchObject({ password: 'hun?ter2', topology: { name: 'sessions' } })
  })
})
