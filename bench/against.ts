// `BENCH_BASELINE=<git rev> npm run bench -- against`: authenticated GET /api/me on this working tree's
// build and on the build of an earlier revision, in one run, alternating rounds, so that a change's
// cost on the hot path is a ratio measured on the same machine at the same time.
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { appEnvForDevIdp, startDevIdp } from '../dev-idp/index.mjs'
import { AppServer, buildApp, freePort, removeDirectory } from './app-server'
import { dropNamespace, SECRET, storeEnv, type StoreKind } from './backends'
import { CookieJar, HttpClient } from './http-client'
import { signIn } from './sign-in'
import type { Table } from './table'

const ROUNDS = 8
const ROUND_SECONDS = 3
const CONNECTIONS = 32
// A browser's: the app notes a session's last activity only for requests, which always carry one.
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const root = new URL('..', import.meta.url).pathname

/** Builds `revision` in a worktree of its own (sharing this tree's node_modules); resolves with its .output. */
async function buildRevision(revision: string): Promise<{ output: string, cleanUp: () => Promise<void> }> {
  const tree = await mkdtemp(join(tmpdir(), 'bench-baseline-'))
  execFileSync('git', ['worktree', 'add', '--detach', tree, revision], { cwd: root, stdio: 'ignore' })
  await symlink(join(root, 'node_modules'), join(tree, 'node_modules'))
  execFileSync(process.execPath, [join(root, 'node_modules/nuxt/bin/nuxt.mjs'), 'build'], { cwd: tree, stdio: 'ignore' })
  return {
    output: join(tree, '.output'),
    cleanUp: async () => {
      execFileSync('git', ['worktree', 'remove', '--force', tree], { cwd: root, stdio: 'ignore' })
      await rm(tree, { recursive: true, force: true })
    },
  }
}

export async function against(kinds: StoreKind[]): Promise<Table[]> {
  const revision = process.env.BENCH_BASELINE
  if (!revision) throw new Error('The "against" section compares with an earlier build: set BENCH_BASELINE to a git revision (e.g. BENCH_BASELINE=main~3).')
  const kind: StoreKind = kinds.includes('redis') ? 'redis' : 'embedded'
  const resolved = execFileSync('git', ['rev-parse', '--short', revision], { cwd: root, encoding: 'utf8' }).trim()
  const baseline = await buildRevision(revision)
  const current = await buildApp()
  const builds = [{ name: `${resolved} (BENCH_BASELINE)`, output: baseline.output }, { name: 'this working tree', output: current }]
  const urls = await Promise.all(builds.map(async () => `http://localhost:${await freePort()}`))
  const idp = await startDevIdp({ port: 0, appBaseUrls: urls, log: () => {} })
  const client = new HttpClient(await readFile(idp.caCertPath, 'utf8'))
  const contenders: Array<{ name: string, server: AppServer, cookie: string, requests: number, seconds: number }> = []
  try {
    for (const [index, build] of builds.entries()) {
      const env = { ...await appEnvForDevIdp(idp, { appBaseUrl: urls[index]!, env: { NUXT_AUTH0_SESSION_SECRET: SECRET } }), ...storeEnv(kind, `against-${index}`) }
      const server = new AppServer(build.output, Number(new URL(urls[index]!).port), env)
      contenders.push({ name: build.name, server, cookie: '', requests: 0, seconds: 0 })
      await server.ready()
      contenders.at(-1)!.cookie = (await signIn(client, server.baseUrl, new CookieJar(), 'alice')).header()
    }
    const load = (contender: typeof contenders[number], duration: number) => autocannon({
      url: `${contender.server.baseUrl}/api/me`, headers: { 'cookie': contender.cookie, 'user-agent': USER_AGENT }, connections: CONNECTIONS, duration,
    })
    for (const contender of contenders) await load(contender, 1)
    for (let round = 0; round < ROUNDS; round++) {
      for (const contender of round % 2 === 0 ? contenders : [...contenders].reverse()) {
        const result = await load(contender, ROUND_SECONDS)
        if (result.non2xx || result.errors) throw new Error(`GET /api/me on ${contender.name}: ${result.non2xx} non-2xx answers and ${result.errors} errors.`)
        contender.requests += result.requests.total
        contender.seconds += result.duration
      }
    }
  }
  finally {
    await Promise.all(contenders.map(contender => contender.server.stop()))
    await idp.close()
    await baseline.cleanUp()
    await removeDirectory(current)
    for (const index of builds.keys()) await dropNamespace(kind, `against-${index}`)
  }
  const perSecond = (contender: typeof contenders[number]) => contender.requests / contender.seconds
  return [{
    title: `Authenticated GET /api/me (${kind}): this working tree against ${resolved}`,
    columns: [{ name: 'build', unit: 'text' }, { name: 'requests/s', unit: 'ops/s' }, { name: 'vs baseline', unit: 'ratio' }],
    rows: contenders.map(contender => [contender.name, perSecond(contender), perSecond(contender) / perSecond(contenders[0]!)]),
    notes: [
      `autocannon, ${CONNECTIONS} connections, a browser's User-Agent, ${ROUNDS} alternating rounds of ${ROUND_SECONDS} s per build after 1 s of warm-up, both servers on one ${kind}.`,
      'One round varies by about ±15 % on a 2-core machine: compare ratios from several runs.',
    ],
  }]
}
