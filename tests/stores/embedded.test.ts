import { fork, type ChildProcess } from 'node:child_process'
import { readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { EncryptedSessionStore } from '~/server/session-stores/encrypted-session-store'
import { createSessionStore } from '~/server/utils/session-store-factory'
import type { PingOutcome } from '../support/embedded-store-process'
import { rawBackend } from '../support/raw-backends'
import { newPerson, newSessionId, newStateData } from '../support/state-data'
import { newNamespace } from '../support/test-namespaces'
import { TEST_SECRET, testSessionStore } from './session-store-contract'

const FOLDER_PREFIX = 'auth0-embedded-test-'
const folderFor = (namespace: string) => join(tmpdir(), `${FOLDER_PREFIX}${namespace}`)

testSessionStore({
  name: 'embedded',
  // One queue for every operation: the contract's 200 calls at once wait behind each other, which on a
  // loaded machine takes more than the production deadline of 1 s.
  env: namespace => ({ EMBEDDED_STORE_DIR: folderFor(namespace), SESSION_STORE_TIMEOUT_MS: '5000' }),
  namespacesHeld: async () => (await readdir(tmpdir())).filter(name => name.startsWith(FOLDER_PREFIX)).map(name => name.slice(FOLDER_PREFIX.length)),
  unreachable: { env: { EMBEDDED_STORE_DIR: '/dev/null/sessions' }, address: '/dev/null/sessions' },
})

/** A separate Node process that opens the store on `folder` and pings it; with `hold` it keeps the folder until killed. */
function openInAnotherProcess(folder: string, mode?: 'hold'): { child: ChildProcess, outcome: Promise<PingOutcome> } {
  const script = fileURLToPath(new URL('../support/embedded-store-process.ts', import.meta.url))
  const child = fork(script, mode ? [folder, mode] : [folder], {
    execArgv: ['--import', 'jiti/register'],
    env: { ...process.env, SESSION_STORE_SECRET: TEST_SECRET },
    silent: true,
  })
  const outcome = new Promise<PingOutcome>((resolve, reject) => {
    let stderr = ''
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.once('message', message => resolve(message as PingOutcome))
    child.once('exit', code => reject(new Error(`the other process exited (code ${code}) before it answered: ${stderr}`)))
  })
  return { child, outcome }
}

describe('the embedded store', () => {
  const folder = folderFor(newNamespace())
  const env = { SESSION_STORE: 'embedded', SESSION_STORE_SECRET: TEST_SECRET, EMBEDDED_STORE_DIR: folder }
  const stores: EncryptedSessionStore[] = []
  const open = () => {
    const store = createSessionStore(env) as EncryptedSessionStore
    stores.push(store)
    return store
  }
  afterEach(async () => {
    vi.useRealTimers()
    await Promise.allSettled(stores.splice(0).map(store => store.close()))
    await rm(folder, { recursive: true, force: true })
  })

  it('deletes expired sessions and tombstones when the scheduled prune runs, and nothing live', async () => {
    const store = open()
    const raw = rawBackend(env)
    const person = newPerson()
    const [expiring, ended, live] = [newSessionId(), newSessionId(), newSessionId()]
    await store.set(expiring, newStateData({ person, createdAt: Math.floor(Date.now() / 1000) - 259_200 + 60 }))
    await store.set(ended, newStateData({ person }))
    await store.delete(ended)
    await store.set(live, newStateData({ person }))

    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 120_000)
    expect(await store.prune()).toBe(1)
    expect(await raw.dump()).not.toContain(expiring)
    expect(await raw.dump()).toContain(ended)

    vi.setSystemTime(Date.now() + 600_000)
    expect(await store.prune()).toBe(0)
    expect(await raw.dump()).not.toContain(ended)
    expect((await store.sessionsOf(person.sub)).map(session => session.id)).toEqual([live])
  })

  it('a second process on the same folder is refused, told whose folder it is and what to do; once the first closes, it may take it', async () => {
    const first = open()
    await first.ping()

    const refused = await openInAnotherProcess(folder).outcome
    expect(refused.error).toContain(`The embedded session store at ${folder} is unavailable`)
    expect(refused.error).toContain(`the folder ${folder} is in use by another process (pid ${process.pid}`)
    expect(refused.error).toContain('use Redis or PostgreSQL')

    await first.close()
    expect(await openInAnotherProcess(folder).outcome).toEqual({ pid: expect.any(Number) })
  })

  it('the folder of a process that was killed (SIGKILL) is taken over once its lock is stale, 10 s later (a controlled clock)', async () => {
    const { child, outcome } = openInAnotherProcess(folder, 'hold')
    expect(await outcome).toEqual({ pid: child.pid })
    const exited = new Promise(resolve => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited

    const next = open()
    await expect(next.ping()).rejects.toMatchObject({ statusCode: 503, message: expect.stringContaining(`pid ${child.pid}`) })
    // The lock's age is its file's mtime against Date.now(): 11 s on, it is stale, whatever the machine's load.
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 11_000)
    await expect(next.ping()).resolves.toBeUndefined()

    const id = newSessionId()
    const state = newStateData()
    await next.set(id, state)
    expect(await next.get(id)).toEqual(state)
  })
})
