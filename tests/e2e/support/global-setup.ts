// Before the e2e run: say which Chromium it uses, build the app unless .output/ holds a build of the
// current sources (tests/support/app-build.ts; the route tests may just have built it), then start the deployments
// (deployments.ts) of the projects that run — each one's dev IdP, in this process, and its app
// servers, as processes — on store data of their own. Returns the teardown that stops them all and
// deletes that data.
import { mkdirSync } from 'node:fs'
import { appendFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { FullConfig } from '@playwright/test'
import { lock } from 'proper-lockfile'
import { appEnvForDevIdp, startDevIdp } from '../../../dev-idp/index.mjs'
import { backends } from '~/server/session-stores/backends'
import { ensureAppBuild } from '../../support/app-build'
import { dropStoreData } from '../../support/test-namespaces'
import { startAppServer, type AppServer } from './app-server'
import { ensureChromium } from './chromium'
import {
  APP_SERVER_ENV, APP_SESSION_SECRET, IDP_CLIENT_ID, IDP_CLIENT_SECRET, IDP_DATA_DIR, appServerURLs, repoRoot, deployments, storeSettings, type Deployment,
} from './deployments'

const logDir = join(repoRoot, 'test-results/servers')

type Stop = () => Promise<void>
type DevIdp = Awaited<ReturnType<typeof startDevIdp>>

async function startIdp(deployment: Deployment, stops: Stop[]): Promise<DevIdp> {
  const logPath = join(logDir, `dev-idp-${deployment.store}.log`)
  const idp = await startDevIdp({
    port: deployment.idpPort,
    appBaseUrls: appServerURLs(deployment),
    clientId: IDP_CLIENT_ID,
    clientSecret: IDP_CLIENT_SECRET,
    dataDir: IDP_DATA_DIR,
    // Another run's start may have emptied test-results/: a lost log line must not stop this one.
    log: line => void appendFile(logPath, `${line}\n`).catch(() => undefined),
  })
  stops.push(idp.close)
  return idp
}

async function startAppServers(deployment: Deployment, idp: DevIdp, stops: Stop[]) {
  await Promise.all(appServerURLs(deployment).map(async (url) => {
    const env = {
      ...storeSettings(deployment),
      ...(url === deployment.peerAppURL && deployment.peerEnv),
      ...APP_SERVER_ENV,
      ...await appEnvForDevIdp(idp, { appBaseUrl: url, env: { NUXT_AUTH0_SESSION_SECRET: APP_SESSION_SECRET } }),
    }
    const server: AppServer = await startAppServer(url, env, join(logDir, `app-${deployment.store}-${new URL(url).port}.log`))
    stops.push(server.stop)
  }))
}

/**
 * One e2e run per checkout at a time: two would rebuild .output under each other and fight over
 * the fixed ports. A second run waits (up to 20 minutes) for the first to finish.
 */
async function oneRunAtATime(): Promise<() => Promise<void>> {
  mkdirSync(join(repoRoot, '.data'), { recursive: true })
  // Not under test-results/, which each run empties at its start.
  return lock(repoRoot, {
    lockfilePath: join(repoRoot, '.data/e2e-run.lock'),
    retries: { retries: 240, minTimeout: 5000, maxTimeout: 5000 },
    onCompromised: () => {},
  })
}

/**
 * Deletes what a deployment's store holds: before the run, what a crashed run left; after it, the
 * run's own. Its namespace (deployments.ts) is the e2e run's only, never the app's defaults.
 */
async function dropDeploymentData(deployment: Deployment): Promise<void> {
  try {
    await dropStoreData(storeSettings(deployment))
  }
  catch (error) {
    const hint = deployment.store === 'embedded' ? '' : ` ${backends[deployment.store].startHint} The stories that need no server run with: npx playwright test --project=embedded`
    throw new Error(`[e2e] the ${deployment.store} stories cannot use their store: ${(error as Error).message.replace(/\.$/, '')}.${hint}`, { cause: error })
  }
}

/** The deployments of the projects this run has (`--project`), so that `--project=embedded` needs no database server. */
function deploymentsToStart(config: FullConfig): Deployment[] {
  const names = new Set(config.filteredProjects.map(project => project.name))
  return deployments.filter(deployment => names.has(deployment.store))
}

export default async function globalSetup(config: FullConfig) {
  ensureChromium()
  const running = deploymentsToStart(config)
  const release = await oneRunAtATime()
  mkdirSync(logDir, { recursive: true })
  const stops: Stop[] = []
  // Filled once the stores answered: a store that could not be reached holds nothing of this run.
  let written: Deployment[] = []
  const stopAll = async () => {
    await Promise.allSettled(stops.reverse().map(stop => stop()))
    const dropped = await Promise.allSettled([...written.map(dropDeploymentData), rm(IDP_DATA_DIR, { recursive: true, force: true })])
    for (const outcome of dropped) if (outcome.status === 'rejected') console.error(`[e2e] left behind: ${(outcome.reason as Error).message}`)
    await release()
  }
  try {
    await Promise.all(running.map(dropDeploymentData))
    written = running
    await ensureAppBuild(join(logDir, 'nuxt-build.log'), line => console.log(line.replace('[build]', '[e2e]')))
    // IdPs one by one (the first generates the certificate and key they share), servers in parallel.
    const idps: DevIdp[] = []
    for (const deployment of running) idps.push(await startIdp(deployment, stops))
    await Promise.all(running.map((deployment, index) => startAppServers(deployment, idps[index]!, stops)))
  }
  catch (error) {
    await stopAll()
    throw error
  }
  console.log(`[e2e] ready: ${running.map(d => `${d.store} ${appServerURLs(d).join(' + ')}`).join(', ')}; server logs in ${logDir}`)
  return stopAll
}
