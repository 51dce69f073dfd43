// A Redis Sentinel setup of a test's own, on free loopback ports: a master, its replica and one
// sentinel watching them (quorum 1), made with Debian's redis-server (`redis-server <conf> --sentinel`
// is the sentinel; no other package is needed). Only the processes it started are ever signalled, by PID.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { infoFields } from '~/server/session-stores/backends/redis-connection'
import { exited, freePort, startRedisServer, until, type DisposableServer } from './disposable-servers'

const HOST = '127.0.0.1'
/** Not the store's default (`mymaster`): a test passing proves the name is read. */
const NAME = 'sessions'
/** How long the master may stay silent before the sentinel fails it over: short, as in the Cluster's tests. */
const DOWN_AFTER_MS = 1000
/** Also the least time between two failovers of the same master, which is twice this. */
const FAILOVER_TIMEOUT_MS = 3000
/** What a session store needs of its Redis; a replica syncs at once instead of after the default 5 s wait for others. */
const DATA_NODE_CONFIG = ['--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--repl-diskless-sync-delay', '0']

export interface RedisSentinel extends DisposableServer {
  /** The settings that point the store at this master through its sentinel. */
  env(): { REDIS_SENTINELS: string, REDIS_SENTINEL_NAME: string }
  /** The port of the master the sentinel names now. */
  masterPort(): Promise<number>
  /**
   * SENTINEL FAILOVER: resolves once the sentinel names the replica as master and the old master
   * replicates from it, with how long each took (ms from the command).
   */
  failover(): Promise<{ promotedMs: number, demotedMs: number }>
  /** SIGKILL to the master; resolves once the sentinel names its replica as master, with the ms that took. */
  killMaster(): Promise<number>
  /** SIGSTOP to the sentinel and both servers: everything hangs. */
  freeze(): void
  thaw(): void
}

/** SENTINEL REPLICAS and SENTINEL MASTER reply with flat [field, value, ...] lists. */
function fields(flat: string[]): Record<string, string> {
  const record: Record<string, string> = {}
  for (let i = 0; i < flat.length; i += 2) record[flat[i]!] = flat[i + 1]!
  return record
}

const portOf = (server: DisposableServer) => Number(new URL(server.url).port)

/** A client that asks one process and never waits for a dead one: nodes go down on purpose here. */
function adminClient(port: number): Redis {
  const client = new Redis({ host: HOST, port, lazyConnect: true, commandTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => 100 })
  client.on('error', () => {})
  return client
}

/** A new master, replica and sentinel, settled: the replica in sync and known to the sentinel. close() kills them and deletes their data. */
export async function startRedisSentinel(): Promise<RedisSentinel> {
  const directory = mkdtempSync(join(tmpdir(), 'redis-sentinel-test-'))
  const sentinelPort = await freePort()
  const config = join(directory, 'sentinel.conf')
  const servers: DisposableServer[] = []
  const admins = new Map<number, Redis>()
  const admin = (port: number) => admins.get(port) ?? admins.set(port, adminClient(port)).get(port)!
  const ask = async (port: number, ...command: string[]) => admin(port).call(command[0]!, ...command.slice(1))
  let sentinel: ChildProcess | undefined
  // A test run that ends without close() (a crash, a timeout) leaves no sentinel behind.
  const killOnExit = () => sentinel?.kill('SIGKILL')
  process.once('exit', killOnExit)

  const sentinelRunning = () => sentinel !== undefined && sentinel.exitCode === null && sentinel.signalCode === null
  const startSentinel = () => {
    if (sentinelRunning()) return
    // Its config file is its memory: it rewrites it on every change, and a restart reads back what it knew.
    sentinel = spawn('redis-server', [config, '--sentinel'], { stdio: 'ignore' })
  }
  const stopSentinel = async () => {
    if (!sentinelRunning()) return
    const done = exited(sentinel!)
    sentinel!.kill('SIGCONT')
    sentinel!.kill('SIGKILL')
    await done
  }
  const masterPort = async () => Number((await ask(sentinelPort, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', NAME) as [string, string])[1])
  const byPort = (port: number) => {
    const server = servers.find(each => portOf(each) === port)
    if (!server) throw new Error(`The sentinel names 127.0.0.1:${port} as master, which is none of this setup's servers (${servers.map(portOf).join(', ')}).`)
    return server
  }
  const replicaOf = (master: number) => servers.map(portOf).find(port => port !== master)!
  /** The master has a replica online that has applied everything, and the sentinel knows that replica as healthy. */
  const settled = async () => {
    try {
      const master = await masterPort()
      const replication = infoFields(await ask(master, 'INFO', 'replication') as string)
      const replica = /ip=[^,]+,port=(\d+),state=online,offset=(\d+)/.exec(replication.slave0 ?? '')
      if (replication.role !== 'master' || !replica || Number(replica[2]) < Number(replication.master_repl_offset)) return false
      const known = (await ask(sentinelPort, 'SENTINEL', 'REPLICAS', NAME) as string[][]).map(fields)
      return known.some(each => Number(each.port) === Number(replica[1]) && each.flags === 'slave' && each['master-link-status'] === 'ok')
    }
    catch {
      return false
    }
  }
  const close = async () => {
    process.off('exit', killOnExit)
    for (const client of admins.values()) client.disconnect()
    await stopSentinel()
    await Promise.all(servers.map(server => server.close()))
    rmSync(directory, { recursive: true, force: true })
  }

  try {
    const master = await startRedisServer(DATA_NODE_CONFIG)
    servers.push(master)
    servers.push(await startRedisServer([...DATA_NODE_CONFIG, '--replicaof', HOST, String(portOf(master))]))
    // The sentinel learns of replicas from its master's INFO, every 10 s: start it once the replica is connected.
    await until(async () => /state=online/.test(await ask(portOf(master), 'INFO', 'replication') as string), 'the replica to sync with its master')
    writeFileSync(config, [
      `port ${sentinelPort}`, `bind ${HOST}`, `dir ${directory}`, `logfile ${join(directory, 'sentinel.log')}`,
      `sentinel monitor ${NAME} ${HOST} ${portOf(master)} 1`,
      `sentinel down-after-milliseconds ${NAME} ${DOWN_AFTER_MS}`,
      `sentinel failover-timeout ${NAME} ${FAILOVER_TIMEOUT_MS}`,
      '',
    ].join('\n'))
    startSentinel()
    await until(settled, `a sentinel on port ${sentinelPort} watching ${servers.map(portOf).join(' and ')}`)
  }
  catch (error) {
    await close()
    throw error
  }

  return {
    url: `redis+sentinel://${HOST}:${sentinelPort}/${NAME}`,
    env: () => ({ REDIS_SENTINELS: `${HOST}:${sentinelPort}`, REDIS_SENTINEL_NAME: NAME }),
    masterPort,

    async failover() {
      const before = await masterPort()
      const after = replicaOf(before)
      const started = Date.now()
      await ask(sentinelPort, 'SENTINEL', 'FAILOVER', NAME)
      await until(async () => await masterPort().catch(() => before) === after, `the sentinel to name ${HOST}:${after} as master`, 15_000, 10)
      const promotedMs = Date.now() - started
      // The sentinel's reconfiguration closes the old master's client connections, this one's too: asked again.
      await until(async () => {
        const replication = infoFields(await ask(before, 'INFO', 'replication').then(String, () => ''))
        return replication.role === 'slave' && Number(replication.master_port) === after && replication.master_link_status === 'up'
      }, `the old master ${HOST}:${before} to replicate from the new one`, 30_000, 10)
      return { promotedMs, demotedMs: Date.now() - started }
    },

    async killMaster() {
      const before = await masterPort()
      const after = replicaOf(before)
      await byPort(before).kill()
      const killed = Date.now()
      await until(async () => await masterPort().catch(() => before) === after, `the sentinel to promote ${HOST}:${after}`, 15_000, 10)
      return Date.now() - killed
    },

    // The sentinel stops first and resumes last: it never sees the servers hang, so it does not fail them over.
    freeze: () => {
      sentinel?.kill('SIGSTOP')
      for (const server of servers) server.freeze()
    },
    thaw: () => {
      for (const server of servers) server.thaw()
      sentinel?.kill('SIGCONT')
    },
    kill: async () => {
      await stopSentinel()
      await Promise.all(servers.map(server => server.kill()))
    },
    // As they were: the same ports, data and roles (no test restarts a setup after a failover).
    start: async () => {
      for (const server of servers) await server.start()
      startSentinel()
      await until(settled, 'the sentinel setup, started again')
    },
    close,
  }
}
