// A signed-out visitor during a session store outage learns it on the home page, before going to the
// IdP and meeting a 503 on the way back. Each story runs its own production server on a store that
// does not answer (nothing is shared with the project's deployment).
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freePort, missingServerBinary, startRedisServer } from '../support/disposable-servers'
import { startAppServer, type AppServer } from './support/app-server'
import { SESSION_STORE_SECRET, auth0Env, type Deployment, type StoreName } from './support/deployments'
import { expect, test } from './support/fixtures'

// Each project's store where nothing answers; for the embedded store, a folder that cannot be made (its parent is a file).
const storesDown: Record<StoreName, { env: () => Promise<Record<string, string>>, named: string }> = {
  redis: { env: async () => ({ REDIS_URL: 'redis://127.0.0.1:1' }), named: 'Redis' },
  postgres: { env: async () => ({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/auth0_sessions' }), named: 'PostgreSQL' },
  mongodb: { env: async () => ({ MONGODB_URI: 'mongodb://127.0.0.1:1/' }), named: 'MongoDB' },
  embedded: {
    env: async () => {
      await mkdir(test.info().outputDir, { recursive: true })
      await writeFile(test.info().outputPath('not-a-folder'), '')
      return { EMBEDDED_STORE_DIR: join(test.info().outputPath('not-a-folder'), 'sessions') }
    },
    named: 'embedded',
  },
}

/** The built server, as deployed (NODE_ENV=production), with `storeEnv` for its store; its log goes to the test's output folder. */
async function startServer(deployment: Deployment, storeEnv: Record<string, string>): Promise<AppServer> {
  const url = `http://localhost:${await freePort()}`
  return startAppServer(url, {
    NODE_ENV: 'production',
    SESSION_STORE: deployment.store,
    SESSION_STORE_SECRET,
    ...storeEnv,
    ...auth0Env(deployment, url),
  }, test.info().outputPath('app.log'), { expectedHealth: 503 })
}

test('with the session store down, a signed-out visitor sees why on the home page, and Log in waits for it', { tag: '@every-store' }, async ({ page, deployment }) => {
  const down = storesDown[deployment.store]
  const server = await startServer(deployment, await down.env())
  try {
    const response = await page.goto(server.url)
    expect(response?.status()).toBe(200)
    await expect(page.getByTestId('sign-in-unavailable')).toHaveText(
      `Sign-in is unavailable: the session store (${down.named}) is not reachable. Try again in a moment.`)
    await expect(page.getByTestId('login')).toBeDisabled()
    await expect(page.getByRole('banner').getByRole('button', { name: 'Log in' })).toBeDisabled()
    // A production build names the store, as /api/health does, but not where it runs.
    const html = await page.content()
    for (const internal of ['127.0.0.1', 'not-a-folder', 'docker compose', '_URL', '_URI', '_DIR']) expect(html).not.toContain(internal)
  }
  finally {
    await server.stop()
  }
})

test('when the store answers again, the banner goes and Log in comes back, without a reload', { tag: '@every-store' }, async ({ page, goto, deployment }) => {
  test.skip(deployment.store !== 'redis', 'One store shows it; the Redis project can start a Redis of its own.')
  const missing = missingServerBinary('redis')
  test.skip(missing !== undefined, missing)
  const redis = await startRedisServer()
  await redis.kill()
  const server = await startServer(deployment, { REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'auth0-e2e-recovery:' })
  try {
    // Hydrated: the page's own polling is what must notice the store is back.
    await goto(server.url, { waitUntil: 'hydration' })
    await expect(page.getByTestId('sign-in-unavailable')).toBeVisible()

    await redis.start()

    // The page asks every 5 s, the server pings at most every 5 s: within about 10 s.
    await expect(page.getByTestId('sign-in-unavailable')).toBeHidden({ timeout: 20_000 })
    await expect(page.getByTestId('login')).toBeEnabled()
    await expect(page.getByTestId('login')).toHaveAttribute('href', '/auth/login')
  }
  finally {
    await server.stop()
    await redis.close()
  }
})
