import { defineConfig } from '@playwright/test'
import { findChromium } from './tests/e2e/support/chromium'
import { deployments } from './tests/e2e/support/deployments'
import type { DeploymentOptions } from './tests/e2e/support/fixtures'

/** One project per session store: the same stories, each against an app server using that store. */
export default defineConfig<DeploymentOptions>({
  testDir: './tests/e2e',
  tsconfig: './tests/e2e/tsconfig.json',
  globalSetup: './tests/e2e/support/global-setup.ts',
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 2,
  // Stories with three browsers signing in now take 30-60 s on 2 cores (a slowdown not yet explained: see the closing note of issues 7 and 8); a hang still fails.
  timeout: 120_000,
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
    use: { baseURL: deployment.appURL, deployment },
    // Two app servers on one store: only the Redis deployment has them.
    testIgnore: deployment.peerAppURL ? undefined : /load-balanced\.spec\.ts/,
  })),
})
