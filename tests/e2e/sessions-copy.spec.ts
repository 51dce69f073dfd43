// An operator moves a running app from the embedded store to Redis with `npm run sessions:copy`
// (docs/sessions-copy.md): stop the app, copy, start the same build on Redis. The signed-in browser
// notices nothing. The story brings its own app server, dev IdP, session folder and Redis prefix.
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { freePort } from '../support/disposable-servers'
import { dropStoreData, newNamespace } from '../support/test-namespaces'
import { startAppServer, type AppServer } from './support/app-server'
import { SESSION_STORE_SECRET, repoRoot } from './support/deployments'
import { expect, test } from './support/fixtures'
import { devUser, expectSignedIn, expectSignedOut, sessionOf, signIn } from './support/sign-in'
import { startStoryIdp } from './support/story-idp'

// Its own servers make it the same story in every project: the Redis one tells it.
test.skip(({ deployment }) => deployment.store !== 'redis', 'runs in the redis project only')

/** `npm run sessions:copy -- <args>`, as the operator types it in the project's folder. */
function sessionsCopy(args: string[], env: Record<string, string>): Promise<{ code: number, output: string }> {
  return new Promise((resolve) => {
    execFile('npm', ['run', '--silent', 'sessions:copy', '--', ...args], { cwd: repoRoot, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, output: `${stdout}${stderr}` })
    })
  })
}

test('after sessions:copy from the embedded store to Redis and a restart on Redis, the browser is still signed in, and the IdP can still sign it out', { tag: '@every-store' }, async ({ page, playwright, deployment }) => {
  const user = devUser(`copy story ${randomBytes(4).toString('hex')}`)
  const url = `http://localhost:${await freePort()}`
  const stores = {
    embedded: { SESSION_STORE: 'embedded', EMBEDDED_STORE_DIR: test.info().outputPath('sessions') },
    redis: { SESSION_STORE: 'redis', REDIS_URL: deployment.storeEnv.REDIS_URL!, REDIS_KEY_PREFIX: `auth0-e2e-copy-${newNamespace()}:` },
  }
  const idp = await startStoryIdp(playwright.request, url)
  // The same build and secrets before and after the switch: only the store changes.
  const appEnv = { ...idp.appEnv, SESSION_STORE_SECRET }
  let server: AppServer | undefined
  try {
    let sessionId = ''
    let sid = ''
    await test.step('the user signs in while the app keeps sessions in the embedded store', async () => {
      server = await startAppServer(url, { ...appEnv, ...stores.embedded }, test.info().outputPath('app-embedded.log'))
      await signIn(page, user, `${url}/profile`)
      const session = await sessionOf(page, url)
      expect(session).toMatchObject({ store: 'embedded', current: { sid: expect.any(String) } })
      sessionId = session!.current!.id
      sid = session!.current!.sid!
    })

    await test.step('the operator stops the app and copies its sessions to Redis', async () => {
      await server!.stop()
      server = undefined
      const copy = await sessionsCopy(['--from', 'embedded', '--to', 'redis'], { ...stores.embedded, ...stores.redis, SESSION_STORE_SECRET })
      expect(copy.output).toContain('Sessions     1 copied')
      expect(copy.output).toContain('Errors       0')
      expect(copy.code, copy.output).toBe(0)
    })

    await test.step('the same build, started on Redis, still knows the browser: same session, now in Redis', async () => {
      server = await startAppServer(url, { ...appEnv, ...stores.redis }, test.info().outputPath('app-redis.log'))
      await expectSignedIn(page, user, url)
      expect(await sessionOf(page, url)).toMatchObject({ store: 'redis', current: { id: sessionId, sid } })
    })

    await test.step('ending the user\'s IdP session signs the browser out: the copied session is indexed by its sid', async () => {
      const ended = await idp.admin.endSession(sid)
      expect(ended.flatMap(each => each.backchannelLogout)).toEqual([expect.objectContaining({ status: 200 })])
      await expectSignedOut(page, url)
    })
  }
  finally {
    await server?.stop()
    await idp.close()
    await dropStoreData({ ...stores.redis, SESSION_STORE_SECRET })
  }
})
