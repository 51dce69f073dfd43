// A user signs in while the session store is down: the callback fails with the 503 page, and once
// the store is back, "Try again" signs them in, where they were going. The story brings its own
// Redis (to stop), its own production server and its own dev IdP, so no other story sees the outage.
import { appEnvForDevIdp, startDevIdp } from '../../dev-idp/index.mjs'
import { freePort, missingServerBinary, startRedisServer } from '../support/disposable-servers'
import { startAppServer } from './support/app-server'
import { APP_SERVER_ENV, APP_SESSION_SECRET, IDP_CLIENT_ID, IDP_CLIENT_SECRET, IDP_DATA_DIR, SESSION_STORE_SECRET } from './support/deployments'
import { expect, test } from './support/fixtures'
import { devUser, idpLoginForm } from './support/sign-in'

// Its own servers make it the same story in every project: the Redis one tells it.
test.skip(({ deployment }) => deployment.store !== 'redis', 'runs in the redis project only')

test('"Try again" after the store failed during sign-in signs the user in once the store is back', { tag: '@every-store' }, async ({ page }) => {
  const user = devUser('outage story')
  test.skip(!!missingServerBinary('redis'), missingServerBinary('redis'))
  const redis = await startRedisServer()
  const url = `http://localhost:${await freePort()}`
  const idp = await startDevIdp({ port: 0, appBaseUrls: [url], clientId: IDP_CLIENT_ID, clientSecret: IDP_CLIENT_SECRET, dataDir: IDP_DATA_DIR, log: () => {} })
  const server = await startAppServer(url, {
    NODE_ENV: 'production',
    ...APP_SERVER_ENV,
    SESSION_STORE: 'redis',
    REDIS_URL: redis.url,
    SESSION_STORE_SECRET,
    ...await appEnvForDevIdp(idp, { appBaseUrl: url, env: { NUXT_AUTH0_SESSION_SECRET: APP_SESSION_SECRET } }),
  }, test.info().outputPath('app.log')).catch(async (error) => {
    await Promise.all([idp.close(), redis.close()])
    throw error
  })
  try {
    await test.step('the store goes down while the user signs in: the callback shows the 503 page', async () => {
      await redis.kill()
      await page.goto(`${url}/profile`)
      await idpLoginForm(page).fill(user.loginName)
      const callback = page.waitForResponse(response => new URL(response.url()).pathname === '/auth/callback')
      await page.getByRole('button', { name: 'Continue' }).click()
      expect((await callback).status()).toBe(503)
      await expect(page.getByRole('heading', { name: 'Temporarily unavailable' })).toBeVisible()
    })

    await test.step('"Try again" is a new sign-in, back to the profile, not a reload of the spent callback', async () => {
      await expect(page.getByTestId('try-again')).toHaveAttribute('href', '/auth/login?returnTo=%2Fprofile')
    })

    await test.step('once the store is back, "Try again" signs the user in (the IdP still knows them)', async () => {
      await redis.start()
      await expect.poll(async () => (await page.request.get(`${url}/api/health`)).status(), { timeout: 15_000 }).toBe(200)
      await page.getByTestId('try-again').click()
      await expect(page).toHaveURL(`${url}/profile`)
      await expect(page.getByRole('heading', { name: user.name })).toBeVisible()
    })
  }
  finally {
    await server.stop()
    await Promise.all([idp.close(), redis.close()])
  }
})
