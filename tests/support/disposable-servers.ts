// Database servers of a test's own, on free loopback ports, so that fault tests can freeze (SIGSTOP),
// stop and kill them without touching the developer's or CI's shared servers.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, chmodSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

export interface DisposableServer {
  /** The connection URL of this server. */
  url: string
  /** SIGSTOP: the server holds its connections open and answers nothing, like a hung host. */
  freeze(): void
  thaw(): void
  /** Kills the server (SIGKILL): connections are refused until start(). */
  kill(): Promise<void>
  /** Starts it again on the same port, with the same data. */
  start(): Promise<void>
  /** Stops it for good and deletes its data. */
  close(): Promise<void>
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** Resolves once `child` has exited (at once when it already has). */
export function exited(child: ChildProcess): Promise<void> {
  return new Promise(resolve => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())))
}

/** Polls `ready` every `everyMs` until it says true; throws naming `what` after `timeoutMs`. */
export async function until(ready: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await ready()) return
    await sleep(everyMs)
  }
  throw new Error(`${what} did not become ready within ${timeoutMs} ms`)
}

function succeeds(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: 2000 })
    return true
  }
  catch {
    return false
  }
}

/** Why a disposable server of this kind cannot be started here, or undefined when it can. */
export function missingServerBinary(kind: 'redis' | 'postgres'): string | undefined {
  if (kind === 'redis') {
    return succeeds('redis-server', ['--version']) && succeeds('redis-cli', ['--version']) ? undefined : 'redis-server or redis-cli is not installed (apt-get install redis-server)'
  }
  return postgresBin() ? undefined : 'PostgreSQL server binaries are not installed (apt-get install postgresql)'
}

/** A redis-server of the test's own; `config` are extra command-line settings, e.g. ['--maxmemory-policy', 'allkeys-lru']. */
export async function startRedisServer(config: string[] = []): Promise<DisposableServer> {
  const port = await freePort()
  const directory = mkdtempSync(join(tmpdir(), 'redis-test-'))
  let child: ChildProcess
  const launch = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', directory, ...config], { stdio: 'ignore' })
    await until(() => succeeds('redis-cli', ['-p', String(port), 'ping']), `redis-server on port ${port}`)
  }
  await launch()
  return {
    url: `redis://127.0.0.1:${port}`,
    freeze: () => child.kill('SIGSTOP'),
    thaw: () => child.kill('SIGCONT'),
    kill: async () => {
      child.kill('SIGKILL')
      await exited(child)
    },
    start: launch,
    close: async () => {
      child.kill('SIGCONT')
      child.kill('SIGKILL')
      await exited(child)
      rmSync(directory, { recursive: true, force: true })
    },
  }
}

function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return undefined
  const version = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0]
  const bin = version && join(root, version, 'bin')
  return bin && existsSync(join(bin, 'postgres')) ? bin : undefined
}

/**
 * A PostgreSQL cluster of the test's own (initdb into a temporary folder, trust auth on loopback).
 * As root it runs as the `postgres` user, which PostgreSQL requires.
 */
export async function startPostgresServer(): Promise<DisposableServer> {
  const bin = postgresBin()
  if (!bin) throw new Error(missingServerBinary('postgres'))
  const port = await freePort()
  const directory = mkdtempSync(join(tmpdir(), 'postgres-test-'))
  chmodSync(directory, 0o777)
  const data = join(directory, 'data')
  // PostgreSQL refuses to run as root: then run it as the `postgres` user.
  const owner = process.getuid?.() === 0
    ? { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) }
    : {}
  execFileSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync'], { stdio: 'ignore', ...owner })
  let child: ChildProcess
  // The postmaster and its backends: a frozen server is all of them frozen.
  const processes = () => {
    const children = execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number)
    return [child.pid!, ...children]
  }
  const signal = (name: NodeJS.Signals) => {
    for (const pid of processes()) process.kill(pid, name)
  }
  const launch = async () => {
    child = spawn(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', directory, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
      { stdio: 'ignore', ...owner })
    await until(() => succeeds(join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)]), `postgres on port ${port}`)
  }
  await launch()
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    freeze: () => signal('SIGSTOP'),
    thaw: () => signal('SIGCONT'),
    kill: async () => {
      const all = processes()
      const done = exited(child)
      for (const pid of all) process.kill(pid, 'SIGKILL')
      await done
      await until(() => !succeeds(join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)]), `postgres on port ${port} to stop`)
    },
    start: launch,
    close: async () => {
      try {
        const done = exited(child)
        signal('SIGCONT')
        for (const pid of processes()) process.kill(pid, 'SIGKILL')
        await done
      }
      catch { /* already gone */ }
      rmSync(directory, { recursive: true, force: true })
    },
  }
}
