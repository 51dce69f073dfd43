// Runs the built app (`node .output/server/index.mjs`) as its own process, the way it is deployed.
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { repoRoot } from './deployments'

export interface AppServer {
  url: string
  logPath: string
  /** Resolves once the process has exited and everything it printed is in the log file. */
  stop(): Promise<void>
}

const serverEntry = '.output/server/index.mjs'

async function tail(path: string, lines = 30) {
  const text = await readFile(path, 'utf8').catch(() => '')
  return text.split('\n').slice(-lines).join('\n')
}

/** Resolves once the child's output streams have closed and the log file holds all they carried. */
function logUntilClosed(child: ChildProcessByStdio<null, Readable, Readable>, logPath: string): Promise<void> {
  const log = createWriteStream(logPath)
  child.stdout.pipe(log, { end: false })
  child.stderr.pipe(log, { end: false })
  return new Promise(resolve => child.once('close', () => log.end(resolve)))
}

/**
 * Starts the server and resolves once /api/health answers `expectedHealth`: 200 (the store is
 * reachable) by default, 503 for a server whose store is meant to be down.
 */
export async function startAppServer(url: string, env: Record<string, string>, logPath: string, { expectedHealth = 200 } = {}): Promise<AppServer> {
  const child = spawn(process.execPath, [serverEntry], {
    cwd: repoRoot,
    env: { ...process.env, ...env, PORT: new URL(url).port },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const closed = logUntilClosed(child, logPath)

  const stop = async () => {
    child.kill('SIGTERM')
    const killLater = setTimeout(() => child.kill('SIGKILL'), 5000)
    await closed
    clearTimeout(killLater)
  }

  const deadline = Date.now() + 30_000
  let lastAnswer = 'no answer yet'
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`The app server for ${url} exited with code ${child.exitCode} before it answered. Its log (${logPath}):\n${await tail(logPath)}`)
    }
    try {
      const response = await fetch(`${url}/api/health`)
      if (response.status === expectedHealth) return { url, logPath, stop }
      lastAnswer = `${response.status} ${await response.text()}`
    }
    catch (error) {
      lastAnswer = error instanceof Error ? error.message : String(error)
    }
    await sleep(200)
  }
  await stop()
  throw new Error(`The app server for ${url} did not answer ${expectedHealth} on /api/health within 30 s (last: ${lastAnswer}). Its log (${logPath}):\n${await tail(logPath)}`)
}
