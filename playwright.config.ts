import type { ConfigOptions } from '@nuxt/test-utils/playwright'
import { defineConfig } from '@playwright/test'
import { findChromium } from './tests/e2e/support/chromium'
import { deployments } from './tests/e2e/support/deployments'
import type { DeploymentOptions } from './tests/e2e/support/fixtures'

/**
 * Stories tagged @every-store depend on the store (sessions written, found, ended, replays refused
 * through it, the store failing): they run in every store's project. The rest (the sign-in pages,
 * headers, cross-site rules, token checks, the demo page, broken cookies) behave the same on any
 * store: they run once, in the embedded project, which needs no database server. The stores
 * themselves are tested by Vitest (tests/stores/), the routes over HTTP by tests/routes/.
 */
/** One project per session store, each against an app server using that store. */
export default defineConfig<ConfigOptions & DeploymentOptions>({
  testDir: './tests/e2e',
  tsconfig: './tests/e2e/tsconfig.json',
  globalSetup: './tests/e2e/support/global-setup.ts',
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 2,
  // The longest story, three browsers and two server restarts, takes ~20 s on 2 cores; a hang still fails.
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['html', { outputFolder: 'playwright-report', open: 'never' }]],
  use: {
    ignoreHTTPSErrors: true, // the dev IdP's self-signed certificate
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    // None found: the global setup installs Playwright's own, which each worker, reading this file anew, then finds.
    launchOptions: findChromium()?.launchOptions,
  },
  projects: deployments.map(deployment => ({
    name: deployment.store,
    // @nuxt/test-utils/playwright tests the app server already running there (no build, no server of its own).
    use: { nuxt: { host: deployment.appURL }, deployment },
    grep: deployment.store === 'embedded' ? undefined : /@every-store/,
    // Two app servers on one store: only the Redis deployment has them.
    testIgnore: deployment.peerAppURL ? undefined : /load-balanced\.spec\.ts/,
  })),
})
