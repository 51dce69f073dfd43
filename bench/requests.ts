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

interface Contender {
  mode: Mode
  server: AppServer
  cookie: string
  requests: number
  seconds: number
  cpuSeconds: number
  p99s: number[]
}

function serverEnv(mode: Mode, namespace: string): Record<string, string> {
  return mode === 'cookie' ? { SESSION_STORE: 'cookie' } : storeEnv(mode, namespace)
}

async function load(contender: Contender, seconds: number) {
  const result = await autocannon({
    url: `${contender.server.baseUrl}/api/me`,
    headers: { cookie: contender.cookie },
    connections: CONNECTIONS,
    duration: seconds,
  })
  if (result.non2xx || result.errors) {
    throw new Error(`GET /api/me in ${contender.mode} mode: ${result.non2xx} non-2xx answers and ${result.errors} errors out of ${result.requests.total}.`)
  }
  return result
}

/**
 * One server per mode, all signed in, then autocannon on each in turn, in alternating rounds;
 * the others sit idle meanwhile.
 */
async function measureRequests(contenders: Contender[]): Promise<Table> {
  for (const contender of contenders) await load(contender, 1)
  for (let round = 0; round < ROUNDS; round++) {
    for (const contender of round % 2 === 0 ? contenders : [...contenders].reverse()) {
      const cpuBefore = await contender.server.cpuSeconds()
      const result = await load(contender, ROUND_SECONDS)
      contender.cpuSeconds += await contender.server.cpuSeconds() - cpuBefore
      contender.requests += result.requests.total
      contender.seconds += result.duration
      contender.p99s.push(result.latency.p99)
    }
  }
  const cookieMode = contenders.find(contender => contender.mode === 'cookie')!
  const perSecond = (contender: Contender) => contender.requests / contender.seconds
  const cpuPerRequest = (contender: Contender) => contender.cpuSeconds / contender.requests * 1e6
  return {
    title: 'Authenticated GET /api/me through the built app (node .output/server/index.mjs)',
    columns: [
      { name: 'SESSION_STORE', unit: 'text' }, { name: 'requests/s', unit: 'ops/s' }, { name: 'p99 ms', unit: 'ms' },
      { name: 'Cookie header bytes', unit: 'bytes' }, { name: 'requests/s vs cookie', unit: 'ratio' },
      { name: 'server CPU µs/request', unit: 'µs' }, { name: 'CPU vs cookie', unit: 'ratio' },
    ],
    rows: contenders.map(contender => [
      contender.mode, perSecond(contender), [...contender.p99s].sort((a, b) => a - b)[Math.floor(contender.p99s.length / 2)]!,
      Buffer.byteLength(contender.cookie), perSecond(contender) / perSecond(cookieMode),
      cpuPerRequest(contender), cpuPerRequest(contender) / cpuPerRequest(cookieMode),
    ]),
    notes: [
      `autocannon, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${ROUND_SECONDS} s per mode, alternating, after 1 s of warm-up; p99 is the median of the rounds' p99.`,
      'Each server was signed in once at the dev IdP (dev-idp/) over plain HTTP, like a browser; the Cookie header is what a browser sends with each request.',
      'requests/s is for this machine, where autocannon, the server and the database share 2 cores; server CPU per request (from /proc/<pid>/stat) is what the app itself costs, wherever the database runs.',
    ],
  }
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
      contenders.push({ mode, server, cookie: '', requests: 0, seconds: 0, cpuSeconds: 0, p99s: [] })
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
    return [requests, ...memory]
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
