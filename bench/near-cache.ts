// The Redis store's near cache (REDIS_NEAR_CACHE=true): what a get costs when it hits and when it
// misses, against a raw GET and the store without it; and how soon a session ended by one app server
// stops being served by another (process A, bench/revocation-watcher.ts, forked here; this process is B).
import { fork, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import type { EncryptedSessionStore } from '../server/session-stores/encrypted-session-store'
import { dropNamespace, openFloor, openStore, type StoreKind } from './backends'
import type { GoalFigures } from './goals'
import { compareLatency, inParallel, type Operation, type Rounds } from './measure'
import type { FromWatcher, ToWatcher } from './revocation-watcher'
import { logoutClaims, newSampleSession, randomPayloadLike, type SampleSession } from './sample-sessions'
import type { Table } from './table'

const NAMESPACE = 'near_cache'
const NEAR_CACHE = { REDIS_NEAR_CACHE: 'true' }
const PLAN: Rounds = { rounds: 10, perRound: 300, warmup: 300 }
const TRIALS = 300
const root = new URL('..', import.meta.url).pathname

const columnsOfGets: Table['columns'] = [
  { name: 'operation', unit: 'text' }, { name: 'p50 µs', unit: 'µs' }, { name: 'p99 µs', unit: 'µs' }, { name: 'ops/s', unit: 'ops/s' },
  { name: 'vs raw GET (p50)', unit: 'ratio' }, { name: 'vs the store without it (p50)', unit: 'ratio' },
]

/** Resolves once the near cache serves `id` from memory (its feed confirmed); false if it never does. */
async function heldInMemory(store: EncryptedSessionStore, id: string): Promise<boolean> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const before = store.nearCache?.hits ?? 0
    await store.get(id)
    if ((store.nearCache?.hits ?? 0) > before) return true
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  return false
}

/** Every timed read is of a session this store has not read yet: for the near cache a miss, as on a server's first request of a session. */
function firstReads(store: EncryptedSessionStore, sessions: SampleSession[]): Operation {
  let next = 0
  return { run: () => store.get(sessions[next++]!.id) }
}

async function measureGets(goals: GoalFigures): Promise<Table> {
  const cached = openStore('redis', NAMESPACE, NEAR_CACHE)
  const plain = openStore('redis', NAMESPACE)
  const floor = await openFloor('redis')
  try {
    const session = newSampleSession()
    await plain.set(session.id, session.state)
    await floor.set('get', randomPayloadLike(session))
    // Two sets of sessions neither store has read: one for the misses, one for the store without the near cache.
    const reads = PLAN.warmup + PLAN.rounds * PLAN.perRound
    const unread = Array.from({ length: reads * 2 }, newSampleSession)
    await inParallel(unread.length, 32, index => plain.set(unread[index]!.id, unread[index]!.state))
    if (!await heldInMemory(cached, session.id)) throw new Error('The near cache never served a read from memory: is REDIS_NEAR_CACHE read, and does its feed confirm?')

    const hitsBefore = cached.nearCache!.hits
    const latency = await compareLatency({
      hit: { run: () => cached.get(session.id) },
      miss: firstReads(cached, unread.slice(0, reads)),
      plain: firstReads(plain, unread.slice(reads)),
      raw: { run: () => floor.get('get') },
    }, PLAN)
    const timedHits = cached.nearCache!.hits - hitsBefore
    if (timedHits < reads) throw new Error(`Of ${reads} timed reads of a cached session, ${timedHits} were served from memory: the near cache turned itself off meanwhile.`)
    goals.record('nearCacheHitVsRawGet', latency.hit.p50 / latency.raw.p50)
    const row = (name: string, figures: typeof latency.hit) => [name, figures.p50, figures.p99, figures.opsPerSecond, figures.p50 / latency.raw.p50, figures.p50 / latency.plain.p50]
    return {
      title: 'redis near cache: get, served from memory and not',
      columns: columnsOfGets,
      rows: [row('get, hit', latency.hit), row('get, miss', latency.miss), row('get without the near cache', latency.plain), row('raw GET (floor)', latency.raw)],
      notes: [
        'hit: the store with REDIS_NEAR_CACHE=true reading a session it holds (every timed read counted as a hit by the store). miss: the same store reading sessions it has not read before '
        + '(each written just before by another store), which it then keeps. Without: the same store with the near cache off, also reading sessions it has not read before. Raw GET: ioredis GET of a buffer of the session\'s size.',
        `One read in flight, ${PLAN.rounds} rounds of ${PLAN.perRound} alternating all four, after ${PLAN.warmup} warm-up.`,
      ],
    }
  }
  finally {
    await cached.close()
    await plain.close()
    await floor.close()
    await dropNamespace('redis', NAMESPACE)
  }
}

/** Process A: a second app server's store, driven by messages (bench/revocation-watcher.ts). */
class Watcher {
  readonly #child: ChildProcess
  #waiting: { resolve: (message: FromWatcher) => void, reject: (error: Error) => void } | undefined

  constructor(settings: Record<string, string>) {
    this.#child = fork(join(root, 'node_modules/jiti/lib/jiti-cli.mjs'), [join(root, 'bench/revocation-watcher.ts'), NAMESPACE, JSON.stringify(settings)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.#child.on('message', (message: FromWatcher) => this.#waiting?.resolve(message))
    this.#child.on('exit', code => this.#waiting?.reject(new Error(`Process A (bench/revocation-watcher.ts) exited with ${code}.`)))
  }

  /** Sends one message and resolves with the answer (one at a time). */
  ask<Type extends FromWatcher['type']>(message: ToWatcher, answer: Type): Promise<Extract<FromWatcher, { type: Type }>> {
    return new Promise((resolve, reject) => {
      this.#waiting = {
        resolve: (reply) => {
          this.#waiting = undefined
          if (reply.type === answer) resolve(reply as Extract<FromWatcher, { type: Type }>)
          else reject(new Error(`Process A answered ${reply.type} to ${message.type}, not ${answer}.`))
        },
        reject,
      }
      this.#child.send(message)
    })
  }

  /** Asks A to close its store and leave; kills it if it has not within 5 s. */
  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return
    const exited = new Promise(resolve => this.#child.once('exit', resolve))
    const killer = setTimeout(() => this.#child.kill('SIGKILL'), 5000)
    await this.ask({ type: 'close' }, 'closed').catch(() => this.#child.kill('SIGKILL'))
    await exited
    clearTimeout(killer)
  }
}

/** Checks that A's hrtime and ours are one clock: A's reading falls between two of ours around it. */
async function checkSharedClock(watcher: Watcher): Promise<void> {
  const before = process.hrtime.bigint()
  const { at } = await watcher.ask({ type: 'clock' }, 'clock')
  const after = process.hrtime.bigint()
  if (BigInt(at) < before || BigInt(at) > after) throw new Error(`Process A's clock (${at}) is not this process's (${before} to ${after}): the latencies cannot be compared.`)
}

type Ending = 'delete' | 'deleteByLogoutToken'

interface Trials {
  /** ms from B's call returning to A's first read that found nothing. */
  latencies: number[]
  heldInMemory: number
  neverGone: number
  /** Trials in which A's first read after hearing of the return already found nothing. */
  goneAtFirstRead: number
}

/** B writes a session, A holds it, B ends it; A, told the moment B's call returned, reads until it is gone. */
async function revocationTrials(store: EncryptedSessionStore, watcher: Watcher, ending: Ending): Promise<Trials> {
  const trials: Trials = { latencies: [], heldInMemory: 0, neverGone: 0, goneAtFirstRead: 0 }
  for (let trial = 0; trial < TRIALS; trial++) {
    const session = newSampleSession()
    await store.set(session.id, session.state)
    const { cached } = await watcher.ask({ type: 'hold', id: session.id }, 'held')
    if (ending === 'delete') await store.delete(session.id)
    else await store.deleteByLogoutToken(logoutClaims(session))
    const returned = process.hrtime.bigint()
    const gone = await watcher.ask({ type: 'ended', id: session.id }, 'gone')
    if (cached) trials.heldInMemory += 1
    if (gone.reads === 1) trials.goneAtFirstRead += 1
    if (gone.at === null) trials.neverGone += 1
    else trials.latencies.push(Number(BigInt(gone.at) - returned) / 1e6)
  }
  return trials
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN
}

async function measureRevocation(goals: GoalFigures): Promise<Table> {
  const rows: Table['rows'] = []
  let worstP99WithNearCache = 0
  let allHeld = true
  for (const [name, settings] of [['near cache on', NEAR_CACHE], ['near cache off', {}]] as const) {
    const store = openStore('redis', NAMESPACE, settings)
    const watcher = new Watcher(settings)
    try {
      await checkSharedClock(watcher)
      for (const ending of ['delete', 'deleteByLogoutToken'] as const) {
        const trials = await revocationTrials(store, watcher, ending)
        const sorted = trials.latencies.sort((a, b) => a - b)
        rows.push([name, ending, TRIALS, trials.heldInMemory, trials.neverGone, trials.goneAtFirstRead, percentile(sorted, 0.5), percentile(sorted, 0.99), sorted.at(-1) ?? Number.NaN])
        if (name === 'near cache on') {
          worstP99WithNearCache = Math.max(worstP99WithNearCache, trials.neverGone ? Number.POSITIVE_INFINITY : percentile(sorted, 0.99))
          allHeld &&= trials.heldInMemory === TRIALS
        }
      }
    }
    finally {
      await watcher.close()
      await store.close()
      await dropNamespace('redis', NAMESPACE)
    }
  }
  // The goal is about sessions served from memory: a trial A did not hold there measured a plain read.
  if (allHeld) goals.record('revocationAcrossServersP99', worstP99WithNearCache)
  return {
    title: 'A session ended on one app server, as another sees it: from the call returning to the other\'s first read that finds nothing',
    columns: [
      { name: 'both processes\' store', unit: 'text' }, { name: 'ended by', unit: 'text' }, { name: 'trials', unit: 'count' },
      { name: 'held in A\'s memory', unit: 'count' }, { name: 'still read after 10 s', unit: 'count' }, { name: 'gone at A\'s first read', unit: 'count' },
      { name: 'p50 ms', unit: 'ms' }, { name: 'p99 ms', unit: 'ms' }, { name: 'max ms', unit: 'ms' },
    ],
    rows,
    notes: [
      'Process B (the bench) writes a session; process A (bench/revocation-watcher.ts, another Node process with its own store) reads it until it serves it from memory (near cache on) '
      + 'or once (off); B deletes it, or ends it with deleteByLogoutToken({ iss, sub, sid }), and the moment that returns tells A over IPC, which then reads it back to back '
      + '(yielding to I/O between reads, as a server between requests) until a read finds nothing.',
      'Times are process.hrtime in both processes (CLOCK_MONOTONIC, one clock on the machine; checked at the start). A hears of the return only over IPC, so each figure '
      + 'includes that message and one read, and is an upper bound: when A\'s first read already finds nothing, the invalidation had arrived before.',
      `${TRIALS} trials per row, one after another.`,
    ],
  }
}

export async function nearCache(kinds: StoreKind[], goals: GoalFigures): Promise<Table[]> {
  if (!kinds.includes('redis')) return []
  return [await measureGets(goals), await measureRevocation(goals)]
}
