import { spawn, type ChildProcess } from 'node:child_process'
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname

/**
 * Builds the app once and copies `.output` aside, so that another build of the working tree
 * (an e2e run, say) cannot change the server under measurement.
 */
export async function buildApp(): Promise<string> {
  await run(process.execPath, [join(root, 'node_modules/nuxt/bin/nuxt.mjs'), 'build'], root)
  const directory = await mkdtemp(join(tmpdir(), 'bench-output-'))
  await cp(join(root, '.output'), directory, { recursive: true })
  return directory
}

function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] })
    child.on('exit', code => code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}`)))
  })
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, 'localhost', () => {
      const address = server.address()
      server.close(() => typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')))
    })
  })
}

export class AppServer {
  readonly baseUrl: string
  readonly #child: ChildProcess
  #log = ''

  constructor(outputDirectory: string, port: number, env: Record<string, string>) {
    this.baseUrl = `http://localhost:${port}`
    // e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/profiles": Node refuses --cpu-prof in NODE_OPTIONS.
    const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []
    this.#child = spawn(process.execPath, [...nodeArgs, join(outputDirectory, 'server/index.mjs')], {
      // In the build's own copy, so that a relative default (.data/sessions) never touches the developer's data.
      cwd: outputDirectory,
      env: { PATH: process.env.PATH, NODE_ENV: 'production', PORT: String(port), HOST: 'localhost', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    for (const stream of [this.#child.stdout!, this.#child.stderr!]) stream.on('data', (chunk: Buffer) => { this.#log += chunk })
  }

  /** Whether the server process is still running. */
  async alive(): Promise<boolean> {
    return this.#child.exitCode === null && this.#child.signalCode === null
  }

  get pid(): number {
    return this.#child.pid!
  }

  /** Resolves once /api/health answers 200; the server log is in the error otherwise. */
  async ready(): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt++) {
      if (this.#child.exitCode !== null) break
      const status = await fetch(`${this.baseUrl}/api/health`).then(response => response.status, () => 0)
      if (status === 200) return
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    throw new Error(`The app server at ${this.baseUrl} did not become healthy. Its log:\n${this.#log}`)
  }

  /**
   * CPU time the server has used so far (user + system), in seconds: /proc/<pid>/stat fields 14 and
   * 15, in clock ticks of 1/100 s (Linux's USER_HZ).
   */
  async cpuSeconds(): Promise<number> {
    const fields = (await readFile(`/proc/${this.pid}/stat`, 'utf8')).split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  }

  /** Resident memory (VmRSS) in bytes, as the kernel reports it. */
  async residentBytes(): Promise<number> {
    const status = await readFile(`/proc/${this.pid}/status`, 'utf8')
    const kilobytes = /VmRSS:\s+(\d+) kB/.exec(status)?.[1]
    if (!kilobytes) throw new Error(`No VmRSS in /proc/${this.pid}/status`)
    return Number(kilobytes) * 1024
  }

  stop(): Promise<void> {
    if (this.#child.exitCode !== null) return Promise.resolve()
    return new Promise((resolve) => {
      this.#child.once('exit', () => resolve())
      this.#child.kill('SIGTERM')
      setTimeout(() => this.#child.kill('SIGKILL'), 5000).unref()
    })
  }
}

export async function removeDirectory(directory: string): Promise<void> {
  await rm(directory, { recursive: true, force: true })
}
