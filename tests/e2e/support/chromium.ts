// The Chromium the stories run in: PLAYWRIGHT_CHROMIUM_EXECUTABLE, else Playwright's own build, else
// the system's, its headless shell first. playwright.config.ts launches what findChromium() names; the
// global setup says which, and installs Playwright's own when there is none.
// The headless shell (Playwright's default for headless runs, and Debian's `chromium-headless-shell`)
// runs the stories in half the time of the full browser in headless mode on 2 cores: docs/testing.md.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { delimiter, join } from 'node:path'
import { chromium, type LaunchOptions } from 'playwright-core'

export interface Chromium {
  executablePath: string
  /** Where it was found, for the run's first line. */
  source: string
  launchOptions: LaunchOptions
}

const SYSTEM_NAMES = ['chromium-headless-shell', 'chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']
const MAC_APPS = ['/Applications/Google Chrome.app/Contents/MacOS/Google Chrome', '/Applications/Chromium.app/Contents/MacOS/Chromium']
const INSTALL_COMMAND = 'npx playwright install chromium'

// A distribution's Chromium runs as root in containers and would phone home on start.
const SYSTEM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync']

function onPath(name: string): string | undefined {
  return (process.env.PATH ?? '').split(delimiter).filter(Boolean).map(dir => join(dir, name)).find(path => existsSync(path))
}

function systemChromium(): Chromium | undefined {
  for (const name of SYSTEM_NAMES) {
    const path = onPath(name)
    if (path) return { executablePath: path, source: `\`${name}\` on PATH, as Playwright's own is not installed`, launchOptions: { executablePath: path, args: SYSTEM_ARGS } }
  }
  const app = MAC_APPS.find(path => existsSync(path))
  return app ? { executablePath: app, source: 'the installed application, as Playwright\'s own is not installed', launchOptions: { executablePath: app, args: SYSTEM_ARGS } } : undefined
}

/** The Chromium to use, or undefined when there is none. Silent: the config (read by every worker) calls it. */
export function findChromium(): Chromium | undefined {
  const chosen = process.env.PLAYWRIGHT_CHROMIUM_EXECUTABLE
  if (chosen) return { executablePath: chosen, source: 'PLAYWRIGHT_CHROMIUM_EXECUTABLE', launchOptions: { executablePath: chosen, args: SYSTEM_ARGS } }
  const own = chromium.executablePath()
  // No channel: Playwright's default, its headless shell in headless runs and this full build when headed.
  if (existsSync(own)) return { executablePath: own, source: 'Playwright\'s own build', launchOptions: {} }
  return systemChromium()
}

/** `npx playwright install chromium`, through the CLI that npx would run; true when it succeeded. */
function installPlaywrightChromium(): boolean {
  const cli = createRequire(import.meta.url).resolve('@playwright/test/cli')
  return spawnSync(process.execPath, [cli, 'install', 'chromium'], { stdio: 'inherit' }).status === 0
}

/** Says which Chromium the run uses and why; installs Playwright's own if there is none; throws, saying how to get one, when that fails. */
export function ensureChromium(log: (line: string) => void = console.log): Chromium {
  const chosen = process.env.PLAYWRIGHT_CHROMIUM_EXECUTABLE
  if (chosen && !existsSync(chosen)) {
    throw new Error(`PLAYWRIGHT_CHROMIUM_EXECUTABLE is "${chosen}", which does not exist. Point it at a Chromium or Chrome binary, `
      + `or unset it to use Playwright's own (${INSTALL_COMMAND}) or the system's.`)
  }
  let found = findChromium()
  if (!found) {
    log(`[e2e] no Chromium found (no PLAYWRIGHT_CHROMIUM_EXECUTABLE, no Playwright's own, no ${SYSTEM_NAMES.join(', ')} on PATH): running ${INSTALL_COMMAND}`)
    found = installPlaywrightChromium() ? findChromium() : undefined
    if (!found) {
      throw new Error(`The browser stories need Chromium, and \`${INSTALL_COMMAND}\` could not install it (see its output above). Get one by any of:\n`
        + `  - ${INSTALL_COMMAND}   (Playwright's own build; needs access to its download server; on Linux add --with-deps for the libraries it needs)\n`
        + '  - your distribution\'s Chromium package, e.g. `apt-get install chromium` on Debian\n'
        + '  - PLAYWRIGHT_CHROMIUM_EXECUTABLE=/path/to/chrome npm test   (any Chromium or Chrome binary)\n'
        + 'The tests that need no browser run with: npx vitest run')
    }
  }
  log(`[e2e] browser: Chromium at ${found.executablePath}, from ${found.source}`)
  return found
}
