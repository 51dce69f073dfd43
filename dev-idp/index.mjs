// @ts-check
// The local dev OpenID Provider: `npm run dev` and the e2e tests sign in here when no Auth0
// tenant is configured. Plain ESM with JSDoc types (checked with @ts-check), so that node,
// scripts/dev.mjs and Playwright's globalSetup all run it as-is, with no loader.
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:https'
import { join } from 'node:path'
import Provider from 'oidc-provider'
import { findAccount, slugOf, suggestedUsers } from './accounts.mjs'
import { adminRoutes } from './admin-routes.mjs'
import { loopbackFetch } from './backchannel-delivery.mjs'
import { adminSecret, appSessionSecret, defaultDataDir, signingKeys, tlsCertificate } from './generated-secrets.mjs'
import { createMemoryStorage } from './memory-adapter.mjs'
import { errorPage, loginPage, logoutPage, signedOutPage } from './pages.mjs'

/** @typedef {any} OidcContext a Koa context with `ctx.oidc`; oidc-provider ships no types */

/**
 * @typedef {object} DevIdpOptions
 * @property {number} [port] 4400 by default; 0 picks a free port
 * @property {string[]} [appBaseUrls] the apps that sign in here, ['http://localhost:3000'] by default.
 *   All may log in and out; back-channel logout goes to the first one only (a client has one
 *   `backchannel_logout_uri`), which is enough when the apps share one session store.
 * @property {string} [clientId] 'dev-client' by default
 * @property {string} [clientSecret] a fixed, public, dev-only value by default
 * @property {string} [dataDir] where the certificate, keys, admin secret and app session secret live; `.data/dev-idp/`
 * @property {(line: string) => void} [log] console.log with a "[dev-idp]" prefix by default
 */

/**
 * @typedef {object} DevIdp
 * @property {string} issuer `https://localhost:<port>/`, with the trailing slash, as Auth0's issuers have
 * @property {string} domain `localhost:<port>`, the value for NUXT_AUTH0_DOMAIN
 * @property {number} port
 * @property {string} caCertPath the self-signed certificate, for NODE_EXTRA_CA_CERTS
 * @property {string} clientId
 * @property {string} clientSecret
 * @property {string} adminSecret the bearer token of the admin routes, generated on first run
 * @property {string[]} appBaseUrls
 * @property {string} dataDir
 * @property {() => Promise<void>} close
 */

export { suggestedUsers }

const defaultAppBaseUrl = 'http://localhost:3000'

export const devIdpDefaults = {
  port: 4400,
  appBaseUrls: [defaultAppBaseUrl],
  clientId: 'dev-client',
  clientSecret: 'dev-client-secret-for-local-development-only',
}

/**
 * The options the CLI and `npm run dev` use, read from the environment.
 * @param {NodeJS.ProcessEnv} env
 * @returns {DevIdpOptions}
 */
export function devIdpOptionsFromEnv(env) {
  const port = env.DEV_IDP_PORT ? Number(env.DEV_IDP_PORT) : devIdpDefaults.port
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`DEV_IDP_PORT must be a port number (0-65535); it is "${env.DEV_IDP_PORT}".`)
  }
  const appBaseUrls = (env.DEV_IDP_APP_BASE_URLS ?? env.NUXT_AUTH0_APP_BASE_URL)?.split(',').map((url) => url.trim()).filter(Boolean)
  return {
    port,
    appBaseUrls: appBaseUrls?.length ? appBaseUrls : devIdpDefaults.appBaseUrls,
    clientId: env.DEV_IDP_CLIENT_ID || devIdpDefaults.clientId,
    clientSecret: env.DEV_IDP_CLIENT_SECRET || devIdpDefaults.clientSecret,
  }
}

/**
 * The environment a Nuxt process (dev server or `node .output/server/index.mjs`) needs to sign
 * in at this IdP. An app session secret already in `env` wins over the generated one.
 * @param {DevIdp} idp
 * @param {{ appBaseUrl?: string, env?: NodeJS.ProcessEnv }} [options]
 * @returns {Promise<Record<string, string>>}
 */
export async function appEnvForDevIdp(idp, { appBaseUrl = idp.appBaseUrls[0] ?? defaultAppBaseUrl, env = process.env } = {}) {
  return {
    NUXT_AUTH0_DOMAIN: idp.domain,
    NUXT_AUTH0_CLIENT_ID: idp.clientId,
    NUXT_AUTH0_CLIENT_SECRET: idp.clientSecret,
    NUXT_AUTH0_SESSION_SECRET: env.NUXT_AUTH0_SESSION_SECRET || await appSessionSecret(idp.dataDir),
    NUXT_AUTH0_APP_BASE_URL: appBaseUrl,
    // Node reads extra CAs only at process start: this must be in the app process's own env.
    NODE_EXTRA_CA_CERTS: idp.caCertPath,
    NUXT_PUBLIC_DEV_IDP_URL: idp.issuer,
    // Server-only (runtimeConfig.devIdpAdminSecret): what the back-channel logout demo calls the admin routes with.
    NUXT_DEV_IDP_ADMIN_SECRET: idp.adminSecret,
  }
}

/** @param {import('node:http').IncomingMessage} req */
async function readForm(req) {
  let text = ''
  for await (const chunk of req) text += chunk
  if (req.headers['content-type']?.startsWith('application/json')) return JSON.parse(text || '{}')
  return Object.fromEntries(new URLSearchParams(text))
}

/**
 * @param {import('node:http').ServerResponse} res
 * @param {number} status
 * @param {string} type
 * @param {string} body
 */
function reply(res, status, type, body) {
  res.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'cache-control': 'no-store' })
  res.end(body)
}

// `npm run dev` leaves NODE_ENV unset; anything else (production, staging, ...) may face real users.
const ALLOWED_NODE_ENVS = ['', 'development', 'test']

/**
 * Throws unless NODE_ENV is unset, development or test (in any case).
 * @param {string | undefined} nodeEnv
 */
function refuseOutsideDevelopment(nodeEnv) {
  if (ALLOWED_NODE_ENVS.includes((nodeEnv ?? '').trim().toLowerCase())) return
  throw new Error(`The dev IdP signs in anyone as anyone, without a password: it runs only with NODE_ENV unset, development or test, and NODE_ENV is "${nodeEnv}". `
    + 'Configure a real Auth0 tenant (NUXT_AUTH0_DOMAIN, ...: see .env.example) instead.')
}

/**
 * Starts the dev IdP over HTTPS, on the loopback interface only.
 * @param {DevIdpOptions} [options]
 * @returns {Promise<DevIdp>}
 */
export async function startDevIdp(options = {}) {
  refuseOutsideDevelopment(process.env.NODE_ENV)
  const {
    port = devIdpDefaults.port,
    appBaseUrls = devIdpDefaults.appBaseUrls,
    clientId = devIdpDefaults.clientId,
    clientSecret = devIdpDefaults.clientSecret,
    dataDir = defaultDataDir,
    log = (line) => console.log(`[dev-idp] ${line}`),
  } = options
  const [tls, jwks, generatedAdminSecret] = await Promise.all([tlsCertificate(dataDir), signingKeys(dataDir), adminSecret(dataDir)])

  // The issuer contains the port, which is only known once listening (port 0).
  /** @type {import('node:http').RequestListener} */
  let handle = (_req, res) => reply(res, 503, 'text/plain', 'starting')
  const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => handle(req, res))
  await new Promise((resolve, reject) => {
    server.once('error', (error) => reject(/** @type {any} */ (error).code === 'EADDRINUSE'
      ? new Error(`The dev IdP cannot listen on port ${port}: it is in use. Stop what uses it, or set DEV_IDP_PORT to a free port.`)
      : error))
    // Loopback only: no other machine may reach an IdP that signs in anyone.
    server.listen(port, 'localhost', () => resolve(undefined))
  })
  const address = server.address()
  if (typeof address !== 'object' || !address || !/^(127\.|::1$|::ffff:127\.)/.test(address.address)) {
    server.close()
    throw new Error(`The dev IdP must listen on a loopback address, but localhost resolved to ${JSON.stringify(address)}. Check the localhost entry of /etc/hosts.`)
  }
  const actualPort = address.port
  const issuer = `https://localhost:${actualPort}/`

  const storage = createMemoryStorage()
  const provider = new Provider(issuer, {
    adapter: storage.Adapter,
    jwks,
    cookies: { keys: [randomBytes(32).toString('hex')] },
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      client_name: 'the Nuxt app',
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: appBaseUrls.map((url) => `${url.replace(/\/$/, '')}/auth/callback`),
      post_logout_redirect_uris: appBaseUrls,
      backchannel_logout_uri: `${(appBaseUrls[0] ?? '').replace(/\/$/, '')}/auth/backchannel-logout`,
      // Without it the logout token (and the id token) would carry no `sid`.
      backchannel_logout_session_required: true,
      id_token_signed_response_alg: 'RS256',
    }],
    claims: { profile: ['name', 'nickname', 'picture'], email: ['email', 'email_verified'] },
    // Put profile and email claims in the id token itself, as Auth0 does (the SDK reads no userinfo).
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (/** @type {OidcContext} */ ctx, /** @type {string} */ form) => { ctx.body = logoutPage(form) },
        postLogoutSuccessSource: async (/** @type {OidcContext} */ ctx) => { ctx.body = signedOutPage() },
      },
    },
    findAccount,
    // The app is first-party: consent is granted without asking, for every scope it requests.
    loadExistingGrant: async (/** @type {OidcContext} */ ctx) => {
      const { client, session, params, result } = ctx.oidc
      const grantId = result?.consent?.grantId || session.grantIdFor(client.clientId)
      const grant = (grantId && await provider.Grant.find(grantId))
        || new provider.Grant({ clientId: client.clientId, accountId: session.accountId })
      grant.addOIDCScope(String(params.scope))
      await grant.save()
      return grant
    },
    // Auth0 issues refresh tokens for offline_access without a consent prompt; oidc-provider
    // drops offline_access unless prompt=consent, so issue them whenever the client may use them.
    issueRefreshToken: async (/** @type {OidcContext} */ _ctx, /** @type {any} */ client) => client.grantTypeAllowed('refresh_token'),
    renderError: async (/** @type {OidcContext} */ ctx, /** @type {Record<string, unknown>} */ out) => {
      ctx.type = 'html'
      ctx.body = errorPage(out)
    },
    fetch: loopbackFetch(log),
    ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 3600, RefreshToken: 14 * 86400, Session: 14 * 86400, Grant: 14 * 86400 },
  })
  // Why the app's login or logout was refused, where the developer looks: this terminal.
  for (const event of ['server_error', 'authorization.error', 'grant.error', 'end_session.error']) {
    provider.on(event, (/** @type {OidcContext} */ _ctx, /** @type {Error & { error_detail?: string }} */ error) => {
      log(`${event}: ${event === 'server_error' ? error.stack : error.message}${error.error_detail ? ` (${error.error_detail})` : ''}`)
    })
  }

  const admin = adminRoutes({ provider, sessions: storage.sessions, adminSecret: generatedAdminSecret })
  const providerCallback = provider.callback()

  /**
   * The login page and its two actions: /interaction/:uid, /interaction/:uid/login and /cancel.
   * @param {import('node:http').IncomingMessage} req
   * @param {import('node:http').ServerResponse} res
   * @param {string} action '' (show the page), 'login' or 'cancel'
   */
  async function interaction(req, res, action) {
    const details = await provider.interactionDetails(req, res)
    /** @param {string} [error] */
    const page = async (error) => {
      const client = await provider.Client.find(String(details.params.client_id))
      const base = `/interaction/${details.uid}`
      return loginPage({ action: `${base}/login`, cancelAction: `${base}/cancel`, clientName: client?.clientName ?? 'the app', users: suggestedUsers, error })
    }
    if (details.prompt.name !== 'login') {
      // loadExistingGrant answers consent, so only login ever reaches this page.
      return reply(res, 500, 'text/html', errorPage({ error: 'unexpected prompt', prompt: details.prompt.name }))
    }
    if (action === 'cancel') {
      return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The user cancelled the sign-in.' }, { mergeWithLastSubmission: false })
    }
    if (action === 'login') {
      const slug = slugOf(String((await readForm(req)).name ?? ''))
      if (!slug) return reply(res, 400, 'text/html', await page('Type a name with at least one letter or digit.'))
      return provider.interactionFinished(req, res, { login: { accountId: `dev|${slug}` } }, { mergeWithLastSubmission: false })
    }
    return reply(res, 200, 'text/html', await page())
  }

  handle = async (req, res) => {
    const url = new URL(req.url ?? '/', issuer)
    try {
      const step = url.pathname.match(/^\/interaction\/[\w-]+(?:\/(login|cancel))?$/)
      if (step && (req.method === (step[1] ? 'POST' : 'GET'))) return await interaction(req, res, step[1] ?? '')
      if (url.pathname.startsWith('/dev/')) {
        const body = req.method === 'POST' ? await readForm(req) : {}
        const answer = await admin(req.method ?? 'GET', url.pathname, req.headers.authorization, body, url.searchParams)
        if (answer) return reply(res, answer.status, 'application/json', JSON.stringify(answer.body, null, 2))
      }
      return providerCallback(req, res)
    } catch (error) {
      // e.g. an interaction whose cookie expired, or a malformed JSON body
      const message = error instanceof Error ? error.message : String(error)
      log(`${req.method} ${url.pathname} failed: ${message}`)
      if (url.pathname.startsWith('/dev/')) return reply(res, 400, 'application/json', JSON.stringify({ error: message }))
      return reply(res, 400, 'text/html', errorPage({ error: message, hint: 'Go back to the app and sign in again.' }))
    }
  }

  log('─'.repeat(64))
  log('Local dev OpenID Provider: FOR DEVELOPMENT AND TESTS ONLY')
  log(`issuer  ${issuer}  (any user name, no password)`)
  log(`client  ${clientId}  for ${appBaseUrls.join(', ')}`)
  log(`admin   routes under /dev/, bearer token in ${join(dataDir, 'admin-secret')}`)
  log('─'.repeat(64))

  return {
    issuer,
    domain: `localhost:${actualPort}`,
    port: actualPort,
    caCertPath: tls.certPath,
    clientId,
    clientSecret,
    adminSecret: generatedAdminSecret,
    appBaseUrls,
    dataDir,
    close: () => new Promise((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve(undefined)))
      server.closeAllConnections()
    }),
  }
}
