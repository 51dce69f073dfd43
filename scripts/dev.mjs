#!/usr/bin/env node
// @ts-check
// `npm run dev`: `nuxt dev`, signing in at the local dev IdP (dev-idp/) unless NUXT_AUTH0_DOMAIN
// names a real Auth0 tenant. Arguments go to `nuxt dev` unchanged.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const nuxtBin = fileURLToPath(new URL('../node_modules/.bin/nuxt', import.meta.url))

/**
 * Runs `nuxt dev` in its own process group, so that stopping it also stops the workers it forks.
 * @param {Record<string, string>} extraEnv
 * @param {() => Promise<void>} [cleanUp] runs once nuxt has exited
 */
function runNuxtDev(extraEnv, cleanUp = async () => {}) {
  const child = spawn(process.execPath, [nuxtBin, 'dev', ...process.argv.slice(2)], {
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

if (process.env.NUXT_AUTH0_DOMAIN) {
  runNuxtDev({})
} else {
  try {
    // Loaded only here: with a real tenant, oidc-provider is never even imported.
    const { appEnvForDevIdp, devIdpOptionsFromEnv, startDevIdp, suggestedUsers } = await import('../dev-idp/index.mjs')
    const idp = await startDevIdp(devIdpOptionsFromEnv(process.env))
    const appEnv = await appEnvForDevIdp(idp)
    console.log([
      '',
      `  No NUXT_AUTH0_DOMAIN set: signing in at the local dev IdP (${idp.issuer}).`,
      `  Open ${appEnv.NUXT_AUTH0_APP_BASE_URL} and sign in with any name, e.g. ${suggestedUsers.join(', ')}.`,
      '  Your browser will warn once about the IdP\'s self-signed certificate: that is expected here.',
      '  To use Auth0 instead, set NUXT_AUTH0_DOMAIN and friends (see dev-idp/README.md).',
      '',
    ].join('\n'))
    runNuxtDev(appEnv, idp.close)
  } catch (error) {
    console.error(`[dev] ${error instanceof Error ? error.message : error}`)
    process.exit(1)
  }
}
