// The production build (`node .output/server/index.mjs`, NODE_ENV=production), started by
// @nuxt/test-utils/e2e for one test file, on a free port, with the settings given.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setup } from '@nuxt/test-utils/e2e'
import { afterAll } from 'vitest'
import { freePort } from '../support/disposable-servers'

const rootDir = fileURLToPath(new URL('../../', import.meta.url))

export const APP_SESSION_SECRET = 'route-tests-only-app-session-secret-not-for-production'
export const SESSION_STORE_SECRET = 'route-tests-only-session-store-secret-not-for-production'
export const HEALTH_DETAILS_TOKEN = 'route-tests-only-health-details-token-not-for-production'

/**
 * Starts the built server for the calling file (or `describe` block) with `env` over the defaults:
 * the embedded store in a folder of its own, Auth0 settings naming an IdP that is not there (no
 * route test signs in; the stories do), production mode.
 */
export async function setupBuiltServer(env: Record<string, string> = {}) {
  const port = await freePort()
  // Nothing listens there: an IdP that cannot be reached.
  const idpPort = await freePort()
  const storeDir = mkdtempSync(join(tmpdir(), 'route-tests-sessions-'))
  afterAll(() => rmSync(storeDir, { recursive: true, force: true }))
  await setup({
    rootDir,
    build: false,
    server: true,
    port,
    nuxtConfig: { nitro: { output: { dir: join(rootDir, '.output') } } },
    env: {
      NODE_ENV: 'production',
      SESSION_STORE: 'embedded',
      EMBEDDED_STORE_DIR: storeDir,
      SESSION_STORE_SECRET,
      HEALTH_DETAILS_TOKEN,
      NUXT_AUTH0_DOMAIN: `localhost:${idpPort}`,
      NUXT_AUTH0_CLIENT_ID: 'route-tests',
      NUXT_AUTH0_CLIENT_SECRET: 'route-tests-only-client-secret',
      NUXT_AUTH0_SESSION_SECRET: APP_SESSION_SECRET,
      NUXT_AUTH0_APP_BASE_URL: `http://127.0.0.1:${port}`,
      ...env,
    },
  })
}
