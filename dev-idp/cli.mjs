#!/usr/bin/env node
// @ts-check
// Runs the dev IdP on its own: `node dev-idp/cli.mjs`. `npm run dev` starts it for you.
import { devIdpOptionsFromEnv, startDevIdp } from './index.mjs'

try {
  process.loadEnvFile('.env') // values already in the environment win
} catch { /* no .env: the defaults apply */ }

try {
  const idp = await startDevIdp(devIdpOptionsFromEnv(process.env))
  const stop = () => idp.close().then(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
} catch (error) {
  console.error(`[dev-idp] ${error instanceof Error ? error.message : error}`)
  process.exit(1)
}
