#!/usr/bin/env node
// @ts-check
// `npm run dev`: `nuxt dev`, signing in at the local dev IdP (dev-idp/) unless NUXT_AUTH0_DOMAIN
// names a real Auth0 tenant. Arguments go to `nuxt dev`, with the port (and host) chosen here, so
// that the app, its callback URL and the dev IdP agree: scripts/dev-server-address.mjs.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { appBaseUrlOn, appRequest, choosePort, devAllowedHosts, idpRequest, nuxtDevArgs } from './dev-server-address.mjs'

const nuxtBin = fileURLToPath(new URL('../node_modules/.bin/nuxt', import.meta.url))

/**
 * Runs `nuxt dev` in its own process group, so that stopping it also stops the workers it forks.
 * @param {string[]} args
 * @param {Record<string, string>} extraEnv
 * @param {() => Promise<void>} [cleanUp] runs once nuxt has exited
 */
function runNuxtDev(args, extraEnv, cleanUp = async () => {}) {
  const child = spawn(process.execPath, [nuxtBin, 'dev', ...args], {
    stdio: 'inherit',
    env: { ...process.env, ...extraEnv },
    detached: true,
  })
  /** @param {NodeJS.Signals} signal */
  const stopGroup = (signal) => {
    try { process.kill(-(child.pid ?? 0), signal) } catch { /* already gone */ }
  }
  for (const signal of /** @type {NodeJS.Signals[]} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
    process.on(signal, () => {
      stopGroup(signal)
      setTimeout(() => stopGroup('SIGKILL'), 5000).unref()
    })
  }
  child.on('exit', async (code, signal) => {
    stopGroup('SIGTERM') // workers nuxt left behind
    await cleanUp()
    process.exit(code ?? (signal ? 1 : 0))
  })
}

try {
  process.loadEnvFile('.env') // values already in the environment win
} catch { /* no .env: fine */ }

/** @param {string} line */
const say = line => console.log(`[dev] ${line}`)

try {
  const argv = process.argv.slice(2)
  const app = appRequest(argv, process.env)
  const appPort = await choosePort(app)
  if (appPort !== app.port) say(`Port ${app.port} is in use: the app runs on port ${appPort} instead, and so do its callback URL and the dev IdP's registration.`)
  const nuxtArgs = nuxtDevArgs(argv, app, appPort)
  const otherHosts = devAllowedHosts(process.env) // nuxt.config.ts gives them to Vite
  if (otherHosts.length) say(`Besides localhost, nuxt dev answers requests for ${otherHosts.join(', ')}.`)

  if (app.realTenant) {
    runNuxtDev(nuxtArgs, {})
  } else {
    // Loaded only here: with a real tenant, oidc-provider is never even imported.
    const { appEnvForDevIdp, devIdpOptionsFromEnv, startDevIdp, suggestedUsers } = await import('../dev-idp/index.mjs')
    const appBaseUrl = appBaseUrlOn(app, appPort)
    const idpOptions = devIdpOptionsFromEnv(process.env)
    const otherApps = (idpOptions.appBaseUrls ?? []).filter(url => URL.parse(url)?.origin !== app.baseUrl.origin)
    const idpPort = await choosePort(idpRequest(idpOptions.port ?? 0, process.env))
    if (idpPort !== idpOptions.port) say(`Port ${idpOptions.port} is in use: the dev IdP runs on port ${idpPort} instead.`)
    const idp = await startDevIdp({ ...idpOptions, port: idpPort, appBaseUrls: [appBaseUrl, ...otherApps] })
    const appEnv = await appEnvForDevIdp(idp, { appBaseUrl })
    console.log([
      '',
      `  No NUXT_AUTH0_DOMAIN set: signing in at the local dev IdP (${idp.issuer}).`,
      `  Open ${appBaseUrl} and sign in with any name, e.g. ${suggestedUsers.join(', ')}.`,
      '  Your browser will warn once about the IdP\'s self-signed certificate: that is expected here.',
      '  To use Auth0 instead, set NUXT_AUTH0_DOMAIN and friends (see dev-idp/README.md).',
      '',
    ].join('\n'))
    runNuxtDev(nuxtArgs, appEnv, idp.close)
  }
} catch (error) {
  console.error(`[dev] ${error instanceof Error ? error.message : error}`)
  process.exit(1)
}
