// The outage drill: the built app under steady load while its database is frozen (SIGSTOP) for 10 s,
// then killed and restarted. What a user sees is measured: how long each request took, what it got,
// and how soon 200s came back. The databases are disposable ones on free ports, never the shared ones.
import { readFile } from 'node:fs/promises'
import { appEnvForDevIdp, startDevIdp } from '../dev-idp/index.mjs'
import { startPostgresServer, startRedisServer, type DisposableServer } from '../tests/support/disposable-servers'
import { createHash } from 'node:crypto'
import { Redis } from 'ioredis'
import { SCRIPTS } from '../server/session-stores/backends/redis'
import { newPerson, newSessionId, newStateData } from '../tests/support/state-data'
import { postStreamedBody, type StreamedPost } from '../tests/support/streamed-body'
import { AppServer, buildApp, freePort, removeDirectory } from './app-server'
import { openStore, SECRET, type StoreKind } from './backends'
import { inParallel } from './measure'
import { CookieJar, HttpClient } from './http-client'
import { signIn } from './sign-in'
import type { Table } from './table'

const FREEZE_MS = 10_000
const DOWN_MS = 5_000
const WORKERS = 16

interface Sample {
  startedAt: number
  ms: number
  status: number
}

const drills: Partial<Record<StoreKind, { start: () => Promise<DisposableServer>, env: (url: string) => Record<string, string> }>> = {
  // As production should run it: with AOF, so that the sessions are still there after the kill.
  redis: { start: () => startRedisServer(['--appendonly', 'yes', '--appendfsync', 'always']), env: url => ({ REDIS_URL: url }) },
  postgres: { start: () => startPostgresServer(), env: url => ({ DATABASE_URL: url }) },
}

/** Keeps WORKERS requests in flight against /api/me until stopped; every answer is a sample. */
function steadyLoad(baseUrl: string, cookie: string) {
  const samples: Sample[] = []
  let running = true
  const worker = async () => {
    while (running) {
      const startedAt = Date.now()
      const status = await fetch(`${baseUrl}/api/me`, { headers: { cookie }, signal: AbortSignal.timeout(30_000) })
        .then(async (response) => {
          await response.arrayBuffer()
          return response.status
        }, () => 0)
      samples.push({ startedAt, ms: Date.now() - startedAt, status })
    }
  }
  const workers = Array.from({ length: WORKERS }, worker)
  return {
    samples,
    stop: async () => {
      running = false
      await Promise.all(workers)
    },
  }
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

const HUGE_BODY_MB = 50

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN
}

/** From `since`, how long until every answer to a request started before `until` was a 200 (ms); NaN if that never happened. */
function recoveredAfter(samples: Sample[], since: number, until: number): number {
  const after = samples.filter(sample => sample.startedAt >= since && sample.startedAt < until).sort((a, b) => a.startedAt - b.startedAt)
  const lastFailure = after.findLastIndex(sample => sample.status !== 200)
  const firstGoodForGood = after[lastFailure + 1]
  return firstGoodForGood ? firstGoodForGood.startedAt + firstGoodForGood.ms - since : Number.NaN
}

async function drill(kind: StoreKind, outputDirectory: string): Promise<Array<string | number>> {
  const plan = drills[kind]!
  const database = await plan.start()
  const appBaseUrl = `http://localhost:${await freePort()}`
  const idp = await startDevIdp({ port: 0, appBaseUrls: [appBaseUrl], log: () => {} })
  const client = new HttpClient(await readFile(idp.caCertPath, 'utf8'))
  const server = new AppServer(outputDirectory, Number(new URL(appBaseUrl).port), {
    ...await appEnvForDevIdp(idp, { appBaseUrl, env: { NUXT_AUTH0_SESSION_SECRET: SECRET } }),
    SESSION_STORE: kind, SESSION_STORE_SECRET: SECRET, ...plan.env(database.url),
  })
  try {
    await server.ready()
    const cookie = (await signIn(client, appBaseUrl, new CookieJar(), 'drill')).header()
    const load = steadyLoad(appBaseUrl, cookie)
    await sleep(2000)

    const frozenAt = Date.now()
    database.freeze()
    await sleep(FREEZE_MS)
    const thawedAt = Date.now()
    database.thaw()
    await sleep(3000)

    const killedAt = Date.now()
    await database.kill()
    await sleep(DOWN_MS)
    await database.start()
    const restartedAt = Date.now()
    await sleep(3000)
    const endedAt = Date.now()
    await load.stop()

    const rssBefore = await server.residentBytes()
    const hugePosts: StreamedPost[] = []
    for (let i = 0; i < 3; i++) hugePosts.push(await postStreamedBody(new URL('/auth/backchannel-logout', appBaseUrl), HUGE_BODY_MB))
    const rssGrowth = await server.residentBytes() - rssBefore

    const duringFreeze = load.samples.filter(sample => sample.startedAt >= frozenAt && sample.startedAt < thawedAt)
    const whileDown = load.samples.filter(sample => sample.startedAt >= killedAt + 100 && sample.startedAt < restartedAt - 100)
    const withStatus = (samples: Sample[], status: number) => samples.filter(sample => sample.status === status).length
    return [
      kind,
      duringFreeze.length, withStatus(duringFreeze, 503), Math.max(...duringFreeze.map(sample => sample.ms)),
      // Requests started as the kill began belong to the kill, not to the thaw.
      recoveredAfter(load.samples, thawedAt, killedAt - 100),
      whileDown.length, withStatus(whileDown, 503), percentile(whileDown.map(sample => sample.ms), 0.99),
      recoveredAfter(load.samples, restartedAt, endedAt),
      (await server.alive()) ? 'yes' : 'NO',
      [...new Set(hugePosts.map(post => post.status ?? 'connection reset'))].join(', '), Math.max(...hugePosts.map(post => post.sentMegabytes)) * 1024 * 1024, rssGrowth,
    ]
  }
  finally {
    await server.stop()
    client.close()
    await idp.close()
    await database.close()
  }
}

const MANY_SIGN_INS = 20_000
const SIGN_INS_PER_DRAIN = 1000

/** id, when (s), duration (µs), the command and its arguments, then the client's address and name. */
type SlowlogEntry = [number, number, number, string[], ...string[]]

const scriptNames = new Map(Object.entries(SCRIPTS).map(([name, lua]) => [createHash('sha1').update(lua).digest('hex'), name]))

/**
 * One user signs in 20 000 times on a disposable Redis (each sign-in a new session), then lists their
 * sessions and signs out everywhere. Redis runs one command at a time: the slowest command, from
 * SLOWLOG, is how long that user could block everybody else.
 */
async function oneUserManySessions(cap: number): Promise<Array<string | number>> {
  const server = await startRedisServer()
  const redis = new Redis(server.url)
  const store = openStore('redis', 'one_user', { REDIS_URL: server.url, SESSION_STORE_MAX_SESSIONS_PER_USER: String(cap) })
  const logged: SlowlogEntry[] = []
  // SLOWLOG keeps at most slowlog-max-len entries, each up to a few hundred bytes: read and emptied in one step, every chunk of sign-ins.
  const drainSlowlog = async () => {
    const [[error, entries] = []] = await redis.multi().slowlog('GET', -1).slowlog('RESET').exec() ?? []
    if (error) throw error
    logged.push(...entries as SlowlogEntry[])
  }
  try {
    const person = newPerson()
    await store.ping()
    await redis.config('SET', 'slowlog-log-slower-than', '0')
    await redis.config('SET', 'slowlog-max-len', String(SIGN_INS_PER_DRAIN * 100))
    await redis.slowlog('RESET')
    for (let done = 0; done < MANY_SIGN_INS; done += SIGN_INS_PER_DRAIN) {
      await inParallel(SIGN_INS_PER_DRAIN, 16, () => store.set(newSessionId(), newStateData({ person })))
      await drainSlowlog()
    }
    const listed = (await store.sessionsOf(person.sub)).length
    await store.deleteByLogoutToken({ sub: person.sub })
    const left = (await store.sessionsOf(person.sub)).length
    await drainSlowlog()
    // Our own MULTI, SLOWLOG and CONFIG are not the store's.
    const commands = logged.filter(([, , , args]) => !['multi', 'exec', 'slowlog', 'config'].includes(args[0]?.toLowerCase() ?? ''))
    const micros = commands.map(entry => entry[2]).sort((a, b) => a - b)
    const slowest = commands.reduce((a, b) => (b[2] > a[2] ? b : a))
    const what = slowest[3][0]?.toLowerCase() === 'evalsha' ? scriptNames.get(slowest[3][1] ?? '') ?? 'a script' : slowest[3][0] ?? '?'
    return [cap, MANY_SIGN_INS, listed, left, micros.length, percentile(micros, 0.99) / 1000, micros.at(-1)! / 1000, what]
  }
  finally {
    await store.close()
    redis.disconnect()
    await server.close()
  }
}

export async function faults(kinds: StoreKind[]): Promise<Table[]> {
  const drilled = kinds.filter(kind => drills[kind])
  if (!drilled.length) return []
  const blocking: Table = {
    title: `One user, ${MANY_SIGN_INS.toLocaleString('en-US')} sign-ins, then a list and "sign out everywhere": the slowest Redis command`,
    columns: [
      { name: 'SESSION_STORE_MAX_SESSIONS_PER_USER', unit: 'count' }, { name: 'sign-ins', unit: 'count' }, { name: 'sessions listed', unit: 'count' },
      { name: 'left after sign out', unit: 'count' }, { name: 'commands logged', unit: 'count' }, { name: 'p99 ms', unit: 'ms' }, { name: 'slowest ms', unit: 'ms' },
      { name: 'slowest command', unit: 'text' },
    ],
    rows: kinds.includes('redis') ? [await oneUserManySessions(50), await oneUserManySessions(1000)] : [],
    notes: ['Issue goal: no single command blocks Redis for more than 10 ms. Durations are Redis\'s own (SLOWLOG, threshold 0), so the network and Node do not count; 16 sign-ins in flight.'],
  }
  const outputDirectory = await buildApp()
  try {
    const rows = []
    for (const kind of drilled) rows.push(await drill(kind, outputDirectory))
    return [blocking, {
      title: `Outage drill: authenticated GET /api/me, ${WORKERS} in flight, database frozen ${FREEZE_MS / 1000} s, then killed ${DOWN_MS / 1000} s`,
      columns: [
        { name: 'SESSION_STORE', unit: 'text' },
        { name: 'requests started while frozen', unit: 'count' }, { name: 'of them 503', unit: 'count' }, { name: 'slowest answer ms', unit: 'ms' },
        { name: '200s for good after thaw ms', unit: 'ms' },
        { name: 'requests while killed', unit: 'count' }, { name: 'of them 503', unit: 'count' }, { name: '503 p99 ms', unit: 'ms' },
        { name: '200s for good after restart ms', unit: 'ms' },
        { name: 'server alive', unit: 'text' },
        { name: `3 × ${HUGE_BODY_MB} MB back-channel POST`, unit: 'text' }, { name: 'most MB sent', unit: 'MB' }, { name: 'RSS growth MB', unit: 'MB' },
      ],
      rows,
      notes: [
        'Issue goals: every request started during a freeze answered within 2 s (a 503 naming the store); 200s within 2 s of the thaw; 503 within 1 s (p99) while the database refuses connections; the process lives.',
        'The database is a disposable server of the bench\'s own (tests/support/disposable-servers.ts), frozen with SIGSTOP and killed with SIGKILL.',
        '"For good" means every request started after that point got a 200.',
        `Then three ${HUGE_BODY_MB} MB bodies, streamed without Content-Length, to /auth/backchannel-logout: the answer, and how much the server's RSS grew (goal: 413, under 32 MB).`,
      ],
    }]
  }
  finally {
    await removeDirectory(outputDirectory)
  }
}
