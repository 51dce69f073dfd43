import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis'
import { SessionStoreConfigError, redactUrl, type EnvReader } from '../session-store-config'
import type { NearCacheSettings } from './redis-change-feed'

export interface HostPort {
  host: string
  port: number
}

/** How the store reaches Redis: one server (or a managed endpoint), a Redis Cluster, or a master named by Sentinels. */
export type RedisTopology =
  | { kind: 'standalone', url: string }
  | { kind: 'cluster', nodes: HostPort[] }
  | { kind: 'sentinel', sentinels: HostPort[], name: string, sentinelPassword?: string }

export interface RedisSettings {
  topology: RedisTopology
  /** ACL user and password for every node (in a standalone URL they are part of the URL). */
  username?: string
  password?: string
  /** TLS to every node (`rediss://`, `rediss+cluster://`, or REDIS_TLS=true). */
  tls: boolean
  /** Put before every key, so the sessions share a Redis with other data safely (REDIS_KEY_PREFIX). Default `auth0:`. */
  keyPrefix: string
  /**
   * Replicas that must hold a tombstone before a logout returns (WAIT): a master that fails over
   * just after cannot bring the session back. Default 1 on a Cluster or through Sentinel, else 0.
   */
  waitForReplicas: number
  /** Opened sessions kept in each process, invalidated by Redis itself (REDIS_NEAR_CACHE=true); off by default. */
  nearCache?: NearCacheSettings
  /** Where the data lives, fit for logs: no password. */
  location: string
}

export const DEFAULT_REDIS_URL = 'redis://localhost:6379'

const HOST_PORT = /^(\[[0-9a-f:.]+\]|[^\s:/@,[\]]+):(\d{1,5})$/i

function hostPorts(list: string, variable: string): HostPort[] {
  const nodes = list.split(',').map(part => part.trim()).filter(Boolean).map((part) => {
    const match = HOST_PORT.exec(part)
    const port = Number(match?.[2])
    if (!match || port < 1 || port > 65_535) {
      // A part with an @ may hold a password: it is not shown.
      const seen = variable === 'REDIS_URL' || part.includes('@') ? 'one of them is not (not shown: it may hold a password; give the user and password in REDIS_USERNAME and REDIS_PASSWORD, or URL-encode them)' : `"${part}" is not one`
      throw new SessionStoreConfigError(`${variable} must list host:port pairs separated by commas (for example "10.0.0.1:7000,10.0.0.2:7000"); ${seen}.`)
    }
    return { host: match[1]!.replace(/^\[|\]$/g, ''), port }
  })
  if (!nodes.length) throw new SessionStoreConfigError(`${variable} names no host:port.`)
  return nodes
}

/** `redis+cluster://[user:password@]h1:p1,h2:p2` or `redis+sentinel://[user:password@]s1:p1,s2:p2/<master name>`; `rediss+...` for TLS. */
function multiHostUrl(url: string): { tls: boolean, cluster: boolean, username?: string, password?: string, hosts: HostPort[], path: string } {
  const scheme = /^(rediss?)\+(cluster|sentinel):\/\//i.exec(url)!
  let rest = url.slice(scheme[0].length)
  // The credentials end at the last @ (a password may hold / or ?, unencoded): found before the path and query.
  const at = rest.lastIndexOf('@')
  let username: string | undefined
  let password: string | undefined
  if (at !== -1) {
    const userinfo = rest.slice(0, at)
    const colon = userinfo.indexOf(':')
    username = decode(colon === -1 ? userinfo : userinfo.slice(0, colon)) || undefined
    password = colon === -1 ? undefined : decode(userinfo.slice(colon + 1)) || undefined
    rest = rest.slice(at + 1)
  }
  if (rest.includes('?')) {
    throw new SessionStoreConfigError('REDIS_URL takes no ?parameters in its redis+cluster:// or redis+sentinel:// form: use REDIS_TLS, REDIS_SENTINEL_PASSWORD and the other REDIS_* variables.')
  }
  const slash = rest.indexOf('/')
  const path = slash === -1 ? '' : decode(rest.slice(slash + 1))
  if (slash !== -1) rest = rest.slice(0, slash)
  return { tls: scheme[1]!.toLowerCase() === 'rediss', cluster: scheme[2]!.toLowerCase() === 'cluster', username, password, hosts: hostPorts(rest, 'REDIS_URL'), path }
}

/** A URL's percent-encoded part; a bad escape is a setting error that shows nothing of the value (it may be a password). */
function decode(text: string): string {
  try {
    return decodeURIComponent(text)
  }
  catch {
    throw new SessionStoreConfigError('REDIS_URL holds a bad %-escape (not shown: it may be in the password).')
  }
}

const list = (nodes: HostPort[]) => nodes.map(node => `${node.host.includes(':') ? `[${node.host}]` : node.host}:${node.port}`).join(',')

/**
 * REDIS_URL (`redis://`, `rediss://`, `redis+cluster://`, `redis+sentinel://`), or REDIS_CLUSTER_NODES /
 * REDIS_SENTINELS with REDIS_USERNAME, REDIS_PASSWORD and REDIS_TLS beside them (docs/configuration.md).
 */
export function readRedisSettings(env: EnvReader): RedisSettings {
  const keyPrefix = env.string('REDIS_KEY_PREFIX', 'auth0:')
  const clusterNodes = env.optional('REDIS_CLUSTER_NODES')
  const sentinels = env.optional('REDIS_SENTINELS')
  const url = env.optional('REDIS_URL')
  const given = [clusterNodes && 'REDIS_CLUSTER_NODES', sentinels && 'REDIS_SENTINELS', url && /\+(cluster|sentinel):/i.test(url) && 'REDIS_URL'].filter(Boolean)
  if (given.length > 1) {
    throw new SessionStoreConfigError(`${given.join(' and ')} both say how to reach Redis: set one of them.`)
  }
  let topology: RedisTopology
  let username = env.optional('REDIS_USERNAME')
  let password = env.optional('REDIS_PASSWORD')
  let tls = env.flag('REDIS_TLS', false)
  const sentinel = (hosts: HostPort[], name?: string): RedisTopology => ({
    kind: 'sentinel', sentinels: hosts, name: name || env.string('REDIS_SENTINEL_NAME', 'mymaster'), sentinelPassword: env.optional('REDIS_SENTINEL_PASSWORD'),
  })
  if (clusterNodes) {
    topology = { kind: 'cluster', nodes: hostPorts(clusterNodes, 'REDIS_CLUSTER_NODES') }
  }
  else if (sentinels) {
    topology = sentinel(hostPorts(sentinels, 'REDIS_SENTINELS'))
  }
  else if (url && /^rediss?\+(cluster|sentinel):\/\//i.test(url)) {
    const parsed = multiHostUrl(url)
    username = parsed.username ?? username
    password = parsed.password ?? password
    tls ||= parsed.tls
    topology = parsed.cluster ? { kind: 'cluster', nodes: parsed.hosts } : sentinel(parsed.hosts, parsed.path)
  }
  else {
    const standalone = url ?? DEFAULT_REDIS_URL
    if (!/^rediss?:\/\//i.test(standalone)) {
      throw new SessionStoreConfigError(`REDIS_URL must start with redis://, rediss://, redis+cluster:// or redis+sentinel://; got ${redactUrl(standalone)}.`)
    }
    topology = { kind: 'standalone', url: standalone }
  }
  const location = topology.kind === 'standalone'
    ? redactUrl(topology.url)
    : topology.kind === 'cluster'
      ? `redis${tls ? 's' : ''}+cluster://${list(topology.nodes)}`
      : `redis${tls ? 's' : ''}+sentinel://${list(topology.sentinels)}/${topology.name}`
  return {
    topology,
    username,
    password,
    tls,
    keyPrefix,
    waitForReplicas: env.integer('REDIS_WAIT_FOR_REPLICAS', topology.kind === 'standalone' ? 0 : 1, { min: 0, max: 10 }),
    ...(env.flag('REDIS_NEAR_CACHE', false) && {
      nearCache: {
        ttlMs: env.integer('REDIS_NEAR_CACHE_TTL_MS', 3000, { min: 100, max: 60_000, unit: ' of milliseconds' }),
        maxEntries: env.integer('REDIS_NEAR_CACHE_MAX_ENTRIES', 10_000, { min: 1, max: 1_000_000 }),
      },
    }),
    location,
  }
}

export type RedisClient = Redis | Cluster

/**
 * A lazily connecting client for these settings; `options` (timeouts, retries) apply to every
 * node's connection. A Cluster follows failovers and slot moves itself (MOVED, ASK, a refresh of
 * its slot map every second).
 */
export function openRedis(settings: RedisSettings, options: RedisOptions = {}): RedisClient {
  const { topology } = settings
  const common: RedisOptions = {
    ...options,
    ...(settings.username && { username: settings.username }),
    ...(settings.password && { password: settings.password }),
    ...(settings.tls && { tls: {} }),
  }
  // The URL's own user and password win; REDIS_USERNAME / REDIS_PASSWORD fill in what it leaves out.
  if (topology.kind === 'standalone') return new Redis(topology.url, common)
  if (topology.kind === 'sentinel') {
    return new Redis({
      ...common,
      sentinels: topology.sentinels,
      name: topology.name,
      // Follow a failover the moment the sentinels announce it (+switch-master), not when the old master
      // finally drops our connection: it accepts writes for about 10 s more, all lost when it is demoted.
      failoverDetector: true,
      ...(topology.sentinelPassword && { sentinelPassword: topology.sentinelPassword }),
      ...(settings.tls && { sentinelTLS: {}, enableTLSForSentinelMode: true }),
    })
  }
  const clusterOptions: ClusterOptions = {
    redisOptions: common,
    lazyConnect: options.lazyConnect ?? false,
    slotsRefreshTimeout: options.connectTimeout ?? 1000,
    slotsRefreshInterval: 1000,
    clusterRetryStrategy: attempt => Math.min(attempt * 100, 1000),
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    // Managed clusters with TLS announce node names their certificates are issued for: keep them, do not resolve them to IPs.
    ...(settings.tls && { dnsLookup: (address: string, callback: (error: null, address: string) => void) => callback(null, address) }),
  }
  return new Cluster(topology.nodes, clusterOptions)
}

/** The `field:value` lines of an INFO or CLUSTER INFO reply (a value may hold colons of its own). */
export function infoFields(info: string): Record<string, string> {
  return Object.fromEntries(info.split(/\r?\n/).filter(line => line.includes(':'))
    .map(line => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]))
}

/** The master nodes' connections (a standalone or Sentinel client is its own one master): SCAN, INFO and drop() go to each. */
export function masters(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client]
}
