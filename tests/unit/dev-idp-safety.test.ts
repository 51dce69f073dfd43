import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminRoutes } from '~/dev-idp/admin-routes.mjs'
import { devIdpDefaults } from '~/dev-idp/index.mjs'

const run = promisify(execFile)
const repoRoot = new URL('../../', import.meta.url)

let dataDir: string
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'dev-idp-safety-'))
})
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true })
})

/** Starts the dev IdP in a process of its own with this NODE_ENV (undefined: unset), and stops it again. */
async function startWith(nodeEnv: string | undefined): Promise<{ started: boolean, output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: nodeEnv }
  if (nodeEnv === undefined) delete env.NODE_ENV
  const script = `import { startDevIdp } from './dev-idp/index.mjs'
    const idp = await startDevIdp({ port: 0, dataDir: ${JSON.stringify(dataDir)}, log: () => {} })
    await idp.close()
    console.log('started')`
  try {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, env, timeout: 15_000 })
    return { started: stdout.includes('started'), output: stdout }
  }
  catch (error) {
    return { started: false, output: String((error as { stderr?: string }).stderr) }
  }
}

// Each test starts a Node process: on a loaded machine that takes more than Vitest's default 5 s.
describe('the dev IdP, which signs in anyone as anyone, stays a development tool', { timeout: 30_000 }, () => {
  for (const nodeEnv of ['Production', 'PRODUCTION', 'production', 'staging']) {
    it(`refuses to start with NODE_ENV=${nodeEnv}, and says why`, async () => {
      const { started, output } = await startWith(nodeEnv)
      expect(started).toBe(false)
      expect(output).toContain(`it runs only with NODE_ENV unset, development or test, and NODE_ENV is "${nodeEnv}"`)
    })
  }

  for (const nodeEnv of [undefined, 'Development', 'test']) {
    it(`starts with ${nodeEnv === undefined ? 'NODE_ENV unset (npm run dev)' : `NODE_ENV=${nodeEnv}`}`, async () => {
      expect(await startWith(nodeEnv)).toMatchObject({ started: true })
    })
  }

  it('its admin routes refuse the client secret, whose default is public, and take the generated admin secret', async () => {
    const routes = adminRoutes({ provider: {}, sessions: () => [], adminSecret: 'the-generated-admin-secret' })
    const listSessions = (authorization: string | undefined) => routes('GET', '/dev/sessions', authorization, {}, new URLSearchParams())

    expect(await listSessions(`Bearer ${devIdpDefaults.clientSecret}`)).toMatchObject({ status: 401, body: { error: expect.stringContaining('client secret is not accepted') } })
    expect(await listSessions(undefined)).toMatchObject({ status: 401 })
    expect(await listSessions('Bearer the-generated-admin-secret')).toEqual({ status: 200, body: { sessions: [] } })
  })
})
