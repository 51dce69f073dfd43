import { isError } from 'h3'
import { logOutage } from '../utils/outage-log'

// All a user of a production build learns: not the store, its address, the command that starts it or a variable name.
const SIGN_IN_UNAVAILABLE = 'Sign-in is temporarily unavailable. Try again in a moment.'

/**
 * A 503 (the session store down or misconfigured, Auth0 not configured, the server starting) says
 * why in its message, written for developers. The server log always gets it. In a production build
 * (`import.meta.dev` is false in `nuxt build`'s output, whatever NODE_ENV says) the page, its payload
 * and JSON answers get one public sentence instead. Nitro calls its `error` hooks before its error
 * handler renders the answer, so the message set here is the only one that leaves the server.
 * Why here, and not in the store: docs/security.md, "Secrets and error details".
 */
export default defineNitroPlugin((nitroApp) => {
  nitroApp.hooks.hook('error', (error) => {
    if (!isError(error) || error.statusCode !== 503) return
    logOutage(`[unavailable] ${error.message}`)
    if (import.meta.dev) return
    error.statusMessage = 'Temporarily unavailable'
    error.message = SIGN_IN_UNAVAILABLE
    error.data = undefined
  })
})
