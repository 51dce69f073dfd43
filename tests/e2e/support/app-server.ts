// Runs the built app (`node .output/server/index.mjs`) as its own process, the way it is deployed.
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { repoRoot } from './deployments'

export interface AppServer {
  url: string
  logPath: string
  stop(): Promise<void>
}

const serverEntry = '.output/server/index.mjs'

async function tail(path: string, lines = 30) {
  const text = await readFile(path, 'utf8').catch(() => '')
  return text.split('\n').slice(-lines).join('\n')
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise(resolve => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())))
}

/** Starts the server and resolves once /api/health answers 200 (the store is reachable). */
export async function startAppServer(url: string, env: Record<string, string>, logPath: string): Promise<AppServer> {
  const log = createWriteStream(logPath)
  const child = spawn(process.execPath, [serverEntry], {
    cwd: repoRoot,
    env: { ...process.env, ...env, PORT: new URL(url).port },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout.pipe(log)
  child.stderr.pipe(log)

  const stop = async () => {
    child.kill('SIGTERM')
    const killLater = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited(child)
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
      if (response.ok) return { url, logPath, stop }
      lastAnswer = `${response.status} ${await response.text()}`
    }
    catch (error) {
      lastAnswer = error instanceof Error ? error.message : String(error)
    }
    await sleep(200)
  }
  await stop()
  throw new Error(`The app server for ${url} did not answer 200 on /api/health within 30 s (last: ${lastAnswer}). Its log (${logPath}):\n${await tail(logPath)}`)
}
