import { readFile } from 'node:fs/promises'
import autocannon from 'autocannon'
import { appEnvForDevIdp, startDevIdp } from '../dev-idp/index.mjs'
import { AppServer, buildApp, freePort, removeDirectory } from './app-server'
import { deleteRedisKeys, dropNamespace, SECRET, storeEnv, type StoreKind } from './backends'
import { CookieJar, HttpClient } from './http-client'
import { inParallel } from './measure'
import { signIn } from './sign-in'
import type { Table } from './table'

type Mode = StoreKind | 'cookie'

const ROUNDS = 4
const ROUND_SECONDS = 3
const CONNECTIONS = 32
const MEMORY_SESSIONS = 10_000
const LOGINS_IN_FLIGHT = 8

/**
 * The request floor: an unauthenticated route on the same server. It runs the same middleware and the
 * SDK's per-request setup, but reads no cookie and does no store work (it pings the store at most once
 * in 5 s, server/utils/sign-in-availability.ts).
 */
const FLOOR_ROUTE = '/api/sign-in-availability'
const PATHS = { me: '/api/me', floor: FLOOR_ROUTE }

/** What one server answered on one route, over every round. */
interface Tally {
  requests: number
  seconds: number
  cpuSeconds: number
  p99s: number[]
}

interface Contender {
  mode: Mode
  server: AppServer
  cookie: string
  /** Authenticated GET /api/me. */
  me: Tally
  /** Unauthenticated GET FLOOR_ROUTE. */
  floor: Tally
}

const newTally = (): Tally => ({ requests: 0, seconds: 0, cpuSeconds: 0, p99s: [] })
const perSecond = (tally: Tally) => tally.requests / tally.seconds
const cpuPerRequest = (tally: Tally) => tally.cpuSeconds / tally.requests * 1e6
const medianP99 = (tally: Tally) => [...tally.p99s].sort((a, b) => a - b)[Math.floor(tally.p99s.length / 2)]!

function serverEnv(mode: Mode, namespace: string): Record<string, string> {
  return mode === 'cookie' ? { SESSION_STORE: 'cookie' } : storeEnv(mode, namespace)
}

async function load(contender: Contender, route: keyof typeof PATHS, seconds: number) {
  const result = await autocannon({
    url: `${contender.server.baseUrl}${PATHS[route]}`,
    headers: route === 'me' ? { cookie: contender.cookie } : {},
    connections: CONNECTIONS,
    duration: seconds,
  })
  if (result.non2xx || result.errors) {
    throw new Error(`GET ${PATHS[route]} in ${contender.mode} mode: ${result.non2xx} non-2xx answers and ${result.errors} errors out of ${result.requests.total}.`)
  }
  return result
}

/**
 * One server per mode, all signed in, then autocannon on each in turn, in alternating rounds, each
 * round both routes (in alternating order); the others sit idle meanwhile.
 */
async function measureRequests(contenders: Contender[]): Promise<Table[]> {
  for (const contender of contenders) {
    await load(contender, 'me', 1)
    await load(contender, 'floor', 1)
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const contender of round % 2 === 0 ? contenders : [...contenders].reverse()) {
      for (const route of round % 2 === 0 ? ['me', 'floor'] as const : ['floor', 'me'] as const) {
        const tally = contender[route]
        const cpuBefore = await contender.server.cpuSeconds()
        const result = await load(contender, route, ROUND_SECONDS)
        tally.cpuSeconds += await contender.server.cpuSeconds() - cpuBefore
        tally.requests += result.requests.total
        tally.seconds += result.duration
        tally.p99s.push(result.latency.p99)
      }
    }
  }
  const cookieMode = contenders.find(contender => contender.mode === 'cookie')!.me
  const method = `autocannon, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${ROUND_SECONDS} s per mode and route, alternating, after 1 s of warm-up; p99 is the median of the rounds' p99.`
  const cpuNote = 'requests/s is for this machine, where autocannon, the server and the database share 2 cores; server CPU per request (from /proc/<pid>/stat) is what the app itself costs, wherever the database runs.'
  return [{
    title: 'Authenticated GET /api/me through the built app (node .output/server/index.mjs)',
    columns: [
      { name: 'SESSION_STORE', unit: 'text' }, { name: 'requests/s', unit: 'ops/s' }, { name: 'p99 ms', unit: 'ms' },
      { name: 'Cookie header bytes', unit: 'bytes' }, { name: 'requests/s vs cookie', unit: 'ratio' },
      { name: 'server CPU µs/request', unit: 'µs' }, { name: 'CPU vs cookie', unit: 'ratio' },
    ],
    rows: contenders.map(({ mode, cookie, me }) => [
      mode, perSecond(me), medianP99(me), Buffer.byteLength(cookie), perSecond(me) / perSecond(cookieMode), cpuPerRequest(me), cpuPerRequest(me) / cpuPerRequest(cookieMode),
    ]),
    notes: [
      method,
      'Each server was signed in once at the dev IdP (dev-idp/) over plain HTTP, like a browser; the Cookie header is what a browser sends with each request.',
      cpuNote,
    ],
  }, {
    title: `The request floor: the same servers answering an unauthenticated GET ${FLOOR_ROUTE}`,
    columns: [
      { name: 'SESSION_STORE', unit: 'text' }, { name: '/api/me requests/s', unit: 'ops/s' }, { name: 'unauthenticated requests/s', unit: 'ops/s' },
      { name: '/api/me / unauthenticated', unit: 'ratio' }, { name: 'unauthenticated p99 ms', unit: 'ms' },
      { name: '/api/me CPU µs/request', unit: 'µs' }, { name: 'unauthenticated CPU µs/request', unit: 'µs' },
    ],
    rows: contenders.map(({ mode, me, floor }) => [
      mode, perSecond(me), perSecond(floor), perSecond(me) / perSecond(floor), medianP99(floor), cpuPerRequest(me), cpuPerRequest(floor),
    ]),
    notes: [
      `${FLOOR_ROUTE} runs every middleware and the SDK's per-request setup, with no cookie: no session to decrypt, no store read (it pings the store at most once in 5 s). `
      + 'What /api/me costs beyond it is being signed in: the SDK\'s cookie decryption, the store\'s get and its decryption, the user as JSON.',
      `${method} Measured in the same rounds as the table above.`,
    ],
  }]
}

/** The server's RSS before and after 10 000 sign-ins, each of which writes a new session. */
async function measureMemory(outputDirectory: string, appBaseUrl: string, env: Record<string, string>, client: HttpClient): Promise<Table> {
  const server = new AppServer(outputDirectory, Number(new URL(appBaseUrl).port), env)
  try {
    await server.ready()
    const idpJar = new CookieJar()
    await signIn(client, appBaseUrl, idpJar, 'memory-bench')
    const atStart = await server.residentBytes()
    const started = performance.now()
    await inParallel(MEMORY_SESSIONS, LOGINS_IN_FLIGHT, () => signIn(client, appBaseUrl, idpJar, 'memory-bench'))
    const seconds = (performance.now() - started) / 1000
    const after = await server.residentBytes()
    return {
      title: `Server memory (redis store) after ${MEMORY_SESSIONS.toLocaleString('en-US')} sign-ins`,
      columns: [
        { name: 'RSS at start MB', unit: 'MB' }, { name: `RSS after ${MEMORY_SESSIONS} sessions MB`, unit: 'MB' },
        { name: 'growth MB', unit: 'MB' }, { name: 'growth bytes per session', unit: 'bytes' },
      ],
      rows: [[atStart, after, after - atStart, (after - atStart) / MEMORY_SESSIONS]],
      notes: [
        `VmRSS of the server process (/proc/<pid>/status), after one warm-up sign-in and after ${MEMORY_SESSIONS} more (${LOGINS_IN_FLIGHT} in flight, ${seconds.toFixed(0)} s). `
        + 'Each sign-in runs /auth/login and /auth/callback, which writes a new session to Redis; the IdP session is reused, so they share one sid.',
        'No cheaper route writes sessions: getUser() and getSession() only read the store (auth0-server-js 1.x does not roll the session on read).',
      ],
    }
  }
  finally {
    await server.stop()
  }
}

export async function requestsAndMemory(kinds: StoreKind[]): Promise<Table[]> {
  const outputDirectory = await buildApp()
  const modes: Mode[] = [...kinds, 'cookie']
  const urls = await Promise.all([...modes, 'memory'].map(async () => `http://localhost:${await freePort()}`))
  const idp = await startDevIdp({ port: 0, appBaseUrls: urls, log: () => {} })
  const client = new HttpClient(await readFile(idp.caCertPath, 'utf8'))
  const appEnv = async (appBaseUrl: string) => appEnvForDevIdp(idp, { appBaseUrl, env: { NUXT_AUTH0_SESSION_SECRET: SECRET } })
  const contenders: Contender[] = []
  try {
    for (const [index, mode] of modes.entries()) {
      const server = new AppServer(outputDirectory, Number(new URL(urls[index]!).port), { ...await appEnv(urls[index]!), ...serverEnv(mode, 'requests') })
      contenders.push({ mode, server, cookie: '', me: newTally(), floor: newTally() })
      await server.ready()
      contenders.at(-1)!.cookie = (await signIn(client, server.baseUrl, new CookieJar(), 'alice')).header()
    }
    const requests = await measureRequests(contenders)
    await Promise.all(contenders.map(contender => contender.server.stop()))
    const memoryUrl = urls.at(-1)!
    const memory = kinds.includes('redis')
      // Every sign-in comes from this one client: the per-client sign-in limit (30 a minute) would refuse most of them.
      ? [await measureMemory(outputDirectory, memoryUrl, { ...await appEnv(memoryUrl), ...storeEnv('redis', 'memory'), RATE_LIMIT_SIGN_IN_PER_MINUTE: '1000000' }, client)]
      : []
    return [...requests, ...memory]
  }
  finally {
    await Promise.all(contenders.map(contender => contender.server.stop()))
    client.close()
    await idp.close()
    for (const kind of kinds) await dropNamespace(kind, 'requests')
    await deleteRedisKeys('bench:memory:')
    await removeDirectory(outputDirectory)
  }
}
