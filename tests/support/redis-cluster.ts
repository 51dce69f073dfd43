// A Redis Cluster of a test's own: 3 masters and 3 replicas on free loopback ports, made with Debian's
// redis-server and `redis-cli --cluster create`, for the store contract, its fault tests and a master
// failover under load. Only the processes it started are ever signalled, by their PID.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { infoFields } from '~/server/session-stores/backends/redis-connection'
import { exited, freePort, until, type DisposableServer } from './disposable-servers'

const HOST = '127.0.0.1'
const SLOTS = 16_384
const NODES = 6
/**
 * How long a master may stay silent before it counts as failed: short, so that a killed master's
 * replica takes over within about 2 s; not so short that a loaded machine's pauses fail nodes over.
 */
const NODE_TIMEOUT_MS = 1000

export interface RedisCluster extends DisposableServer {
  /** `host:port` of every node, masters and replicas. */
  readonly nodes: string[]
  /** The settings that point the store at this cluster. */
  env(): { REDIS_CLUSTER_NODES: string }
  /** The port of the master serving this slot, or the slot of this key. */
  masterOf(slotOrKey: number | string): Promise<number>
  /** The slot of each key, asked of the cluster in one round trip. */
  slotsOfKeys(keys: string[]): Promise<number[]>
  /** The slot ranges (inclusive) the master on `port` serves. */
  slotsOf(port: number): Promise<Array<[number, number]>>
  /** Resolves once every replica has applied all that its master has written so far. */
  replicated(): Promise<void>
  /** SIGKILL to a master; waitForPromotion() then sees its replica take over. */
  killMaster(port: number): Promise<void>
  /** When (Date.now()) a survivor's CLUSTER NODES first showed the killed master's replica promoted, and its port. */
  waitForPromotion(timeoutMs?: number): Promise<{ at: number, port: number }>
  /** SIGSTOP to the node on `port`, or to every node (the whole cluster hangs). */
  freeze(port?: number): void
  thaw(port?: number): void
}

/** A node as CLUSTER NODES describes it. */
interface NodeView {
  id: string
  port: number
  flags: string[]
  slots: Array<[number, number]>
}

function parseClusterNodes(text: string): NodeView[] {
  return text.trim().split('\n').map((line) => {
    const [id, address, flags, , , , , , ...slots] = line.split(' ')
    return {
      id: id!,
      port: Number(address!.split('@')[0]!.split(':').pop()),
      flags: flags!.split(','),
      // Slots being moved ("[slot->-id]") belong to their current owner's range already.
      slots: slots.filter(slot => !slot.startsWith('[')).map((range) => {
        const [from, to = from] = range.split('-').map(Number)
        return [from!, to!]
      }),
    }
  })
}

function serves(node: NodeView, slot: number): boolean {
  return node.flags.includes('master') && !node.flags.includes('fail') && node.slots.some(([from, to]) => slot >= from && slot <= to)
}

/** A node failing or suspected to, or not yet fully joined. */
const UNSETTLED_FLAGS = ['fail', 'fail?', 'handshake', 'noaddr']

class ClusterNode {
  readonly port: number
  readonly #busPort: number
  readonly #directory: string
  readonly #admin: Redis
  #process: ChildProcess | undefined
  #frozen = false

  constructor(port: number, busPort: number, directory: string) {
    this.port = port
    this.#busPort = busPort
    this.#directory = directory
    mkdirSync(directory)
    this.#admin = new Redis({
      host: HOST, port, lazyConnect: true, commandTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => 100,
    })
    // Nodes go down on purpose here; the command that needed one says so.
    this.#admin.on('error', () => {})
  }

  get address(): string {
    return `${HOST}:${this.port}`
  }

  get running(): boolean {
    return this.#process !== undefined && this.#process.exitCode === null && this.#process.signalCode === null
  }

  /** Running and not frozen: it can answer. */
  get live(): boolean {
    return this.running && !this.#frozen
  }

  /** Starts it unless it runs; with its cluster config and AOF it comes back as the node it was. */
  start(): void {
    if (this.running) return
    this.#frozen = false
    this.#process = spawn('redis-server', [
      '--port', String(this.port), '--bind', HOST, '--dir', this.#directory, '--logfile', join(this.#directory, 'redis.log'),
      '--cluster-enabled', 'yes', '--cluster-port', String(this.#busPort), '--cluster-node-timeout', String(NODE_TIMEOUT_MS),
      '--cluster-config-file', join(this.#directory, `nodes-${this.port}.conf`),
      '--appendonly', 'yes', '--save', '', '--maxmemory-policy', 'noeviction',
      // A replica syncs at once instead of after the default 5 s wait for other replicas.
      '--repl-diskless-sync-delay', '0',
    ], { stdio: 'ignore' })
  }

  freeze(): void {
    if (!this.running) return
    this.#process!.kill('SIGSTOP')
    this.#frozen = true
  }

  thaw(): void {
    if (!this.running) return
    this.#process!.kill('SIGCONT')
    this.#frozen = false
  }

  async kill(): Promise<void> {
    if (!this.running) return
    const done = exited(this.#process!)
    this.#process!.kill('SIGKILL')
    await done
    this.#frozen = false
  }

  /** For process exit, when nothing can be awaited any more. */
  killNow(): void {
    if (this.running) this.#process!.kill('SIGKILL')
  }

  async ask(...command: string[]): Promise<string> {
    return String(await this.#admin.call(command[0]!, ...command.slice(1)))
  }

  async keySlots(keys: string[]): Promise<number[]> {
    const pipeline = this.#admin.pipeline()
    for (const key of keys) pipeline.cluster('KEYSLOT', key)
    return (await pipeline.exec() ?? []).map(([error, slot]) => {
      if (error) throw error
      return slot as number
    })
  }

  /** A master whose replicas have all applied its writes so far (a replica: true). */
  async replicated(): Promise<boolean> {
    const replication = infoFields(await this.ask('INFO', 'replication'))
    if (replication.role !== 'master') return true
    const written = Number(replication.master_repl_offset)
    const replicas = Object.keys(replication).filter(field => /^slave\d+$/.test(field))
    return replicas.length > 0 && replicas.every(field => Number(/offset=(\d+)/.exec(replication[field]!)?.[1]) >= written)
  }

  async view(): Promise<NodeView[]> {
    return parseClusterNodes(await this.ask('CLUSTER', 'NODES'))
  }

  /**
   * Settled, in this node's view: every slot served, all six nodes known and none failing, three masters
   * with slots, and this node a master with slots or a replica in sync (a restarted master is neither
   * until it learns that its replica took over).
   */
  async settled(): Promise<boolean> {
    try {
      const cluster = infoFields(await this.ask('CLUSTER', 'INFO'))
      if (cluster.cluster_state !== 'ok' || Number(cluster.cluster_slots_ok) !== SLOTS) return false
      const view = await this.view()
      if (view.length !== NODES || view.some(node => node.flags.some(flag => UNSETTLED_FLAGS.includes(flag)))) return false
      if (view.filter(node => node.flags.includes('master') && node.slots.length > 0).length !== NODES / 2) return false
      const me = view.find(node => node.flags.includes('myself'))!
      if (me.flags.includes('master')) return me.slots.length > 0
      const replication = infoFields(await this.ask('INFO', 'replication'))
      return replication.master_link_status === 'up' && replication.master_sync_in_progress === '0'
    }
    catch {
      return false
    }
  }

  close(): void {
    this.#admin.disconnect()
  }
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>()
  while (ports.size < count) ports.add(await freePort())
  return [...ports]
}

/** A new cluster, settled: every slot served and every replica in sync. close() kills its processes and deletes its data. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const directory = mkdtempSync(join(tmpdir(), 'redis-cluster-test-'))
  const ports = await distinctFreePorts(NODES * 2)
  const nodes = Array.from({ length: NODES }, (_, i) => new ClusterNode(ports[i * 2]!, ports[i * 2 + 1]!, join(directory, String(ports[i * 2]))))
  // A test run that ends without close() (a crash, a timeout) leaves no server behind.
  const killOnExit = () => {
    for (const node of nodes) node.killNow()
    rmSync(directory, { recursive: true, force: true })
  }
  process.once('exit', killOnExit)
  let failed: NodeView | undefined

  const live = () => nodes.filter(node => node.live)
  const byPort = (port: number) => {
    const node = nodes.find(each => each.port === port)
    if (!node) throw new Error(`No node of this cluster listens on port ${port}; its nodes are ${nodes.map(each => each.port).join(', ')}.`)
    return node
  }
  // Any node knows every key's slot; one killed while it answers hands the question to the next.
  const slotsOfKeys = async (keys: string[]) => {
    let failure: unknown = new Error('No node of the cluster is running and unfrozen to ask.')
    for (const node of live()) {
      try {
        return await node.keySlots(keys)
      }
      catch (error) {
        failure = error
      }
    }
    throw failure
  }
  const allSettled = async (what: string) => {
    await until(async () => (await Promise.all(nodes.map(node => node.settled()))).every(Boolean), what, 30_000)
  }
  const startAll = async () => {
    for (const node of nodes) node.start()
    await until(async () => (await Promise.all(nodes.map(node => node.ask('PING').then(() => true, () => false)))).every(Boolean), 'the cluster\'s redis-servers')
  }
  const close = async () => {
    process.off('exit', killOnExit)
    await Promise.all(nodes.map(node => node.kill()))
    for (const node of nodes) node.close()
    rmSync(directory, { recursive: true, force: true })
  }

  try {
    await startAll()
    await promisify(execFile)('redis-cli', ['--cluster', 'create', ...nodes.map(node => node.address), '--cluster-replicas', '1', '--cluster-yes'], { timeout: 30_000 })
    await allSettled(`a new cluster on ports ${nodes.map(node => node.port).join(', ')}`)
  }
  catch (error) {
    await close()
    throw error
  }

  return {
    nodes: nodes.map(node => node.address),
    url: `redis+cluster://${nodes.map(node => node.address).join(',')}`,
    env: () => ({ REDIS_CLUSTER_NODES: nodes.map(node => node.address).join(',') }),

    // Right after a failover some nodes have not heard of the new master yet: the first that has, answers.
    async masterOf(slotOrKey) {
      const asked = live()
      const slot = typeof slotOrKey === 'number' ? slotOrKey : (await slotsOfKeys([slotOrKey]))[0]!
      for (const node of asked) {
        const master = (await node.view().catch(() => [])).find(each => serves(each, slot))
        if (master) return master.port
      }
      throw new Error(`No master serves slot ${slot} in the view of ${asked.map(node => node.address).join(', ')}.`)
    },

    slotsOfKeys,

    async slotsOf(port) {
      const me = (await byPort(port).view()).find(each => each.flags.includes('myself'))!
      return me.slots
    },

    async replicated() {
      await until(async () => (await Promise.all(live().map(node => node.replicated().catch(() => false)))).every(Boolean), 'the replicas to catch up with their masters')
    },

    async killMaster(port) {
      const node = byPort(port)
      const me = (await node.view()).find(each => each.flags.includes('myself'))!
      if (!me.flags.includes('master') || me.slots.length === 0) throw new Error(`${node.address} is not a master serving slots (flags ${me.flags.join(',')}).`)
      failed = me
      await node.kill()
    },

    async waitForPromotion(timeoutMs = 15_000) {
      const gone = failed
      if (!gone) throw new Error('waitForPromotion() waits for the replica of a master that killMaster() killed; none was.')
      const slot = gone.slots[0]![0]
      let promoted: { at: number, port: number } | undefined
      // Every 10 ms, each survivor asked on its own: the first to show a new master for the slot times the promotion.
      await until(async () => {
        const sightings = await Promise.all(live().map(async (node) => {
          const master = await node.view().then(view => view.find(each => each.id !== gone.id && serves(each, slot)), () => undefined)
          return master && { at: Date.now(), port: master.port }
        }))
        promoted = sightings.filter(sighting => sighting !== undefined).sort((a, b) => a.at - b.at)[0]
        return promoted !== undefined
      }, `a replica of ${HOST}:${gone.port} to be promoted`, timeoutMs, 10)
      failed = undefined
      return promoted!
    },

    freeze: (port) => {
      for (const node of port === undefined ? nodes : [byPort(port)]) node.freeze()
    },
    thaw: (port) => {
      for (const node of port === undefined ? nodes : [byPort(port)]) node.thaw()
    },
    kill: async () => {
      await Promise.all(nodes.map(node => node.kill()))
    },
    start: async () => {
      await startAll()
      await allSettled('the cluster, started again')
    },
    close,
  }
}
