// What the e2e run deploys, one deployment per session store: an app server (two for Redis, as
// behind a load balancer) and the dev IdP it signs in at. playwright.config.ts makes one project
// of each; global-setup.ts starts those of the projects that run. Fixed ports, so the config knows each project's baseURL.
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export type StoreName = 'embedded' | 'redis' | 'postgres' | 'mongodb'

export interface Deployment {
  store: StoreName
  /** The app server the tests browse, http://localhost:<port> (never 127.0.0.1: cookies are per host). */
  appURL: string
  /** A second app server on the same store; the IdP sends back-channel logouts to it, not to appURL. */
  peerAppURL?: string
  /** What the second app server sets beyond storeEnv. */
  peerEnv?: Record<string, string>
  idpPort: number
  /** The store's settings, in a namespace of its own so e2e data never mixes with dev or unit-test data; deleted before and after each run. */
  storeEnv: Record<string, string>
}

/** The project's root, whatever directory Playwright was started from. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
const underRoot = (path: string) => join(repoRoot, path)

/** The app's cookie secret: the tests need it to forge an expired session cookie the app itself could have made. */
export const APP_SESSION_SECRET = 'e2e-only-app-session-secret-not-for-production'
export const SESSION_STORE_SECRET = 'e2e-only-session-store-secret-not-for-production'
export const IDP_CLIENT_ID = 'dev-client'
/** The dev IdP's client secret; its admin routes refuse it (they take the generated admin secret in IDP_DATA_DIR). */
export const IDP_CLIENT_SECRET = 'e2e-only-dev-idp-client-secret'
/** The e2e IdPs' certificate, signing key and admin secret (generated on first run, gitignored). */
export const IDP_DATA_DIR = underRoot('.data/e2e-idp')

const localhost = (port: number) => `http://localhost:${port}`

function allDeployments(): Deployment[] {
  const deployments: Deployment[] = [
    { store: 'embedded', appURL: localhost(3101), idpPort: 4501, storeEnv: { EMBEDDED_STORE_DIR: underRoot('.data/e2e-sessions') } },
    {
      store: 'redis',
      appURL: localhost(3102),
      peerAppURL: localhost(3112),
      idpPort: 4502,
      storeEnv: { REDIS_URL: process.env.REDIS_URL ?? 'redis://localhost:6379', REDIS_KEY_PREFIX: 'auth0-e2e:' },
      // One server with the near cache, one without: a sign-out on either must reach the other's readers.
      peerEnv: { REDIS_NEAR_CACHE: 'true' },
    },
    {
      store: 'postgres',
      appURL: localhost(3103),
      idpPort: 4503,
      storeEnv: {
        DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres:postgres@localhost:5432/auth0_sessions',
        POSTGRES_SESSION_TABLE: 'auth0_sessions_e2e',
      },
    },
  ]
  // No MongoDB server in every environment: its project exists only when one is given.
  if (process.env.MONGODB_URI) {
    deployments.push({
      store: 'mongodb',
      appURL: localhost(3104),
      idpPort: 4504,
      storeEnv: { MONGODB_URI: process.env.MONGODB_URI, MONGODB_COLLECTION: 'sessions_e2e' },
    })
  }
  return deployments
}

export const deployments = allDeployments()

export const idpURL = (deployment: Deployment) => `https://localhost:${deployment.idpPort}/`

/** Every app server of a deployment; the IdP's back-channel logout goes to the first. */
export const appServerURLs = (deployment: Deployment) =>
  deployment.peerAppURL ? [deployment.peerAppURL, deployment.appURL] : [deployment.appURL]

/**
 * Every app server's settings beyond its store. The whole suite signs in from one address, so the
 * per-client limits are raised; the rate-limit story uses an X-Forwarded-For address of its own.
 */
export const APP_SERVER_ENV = {
  TRUST_PROXY: 'true',
  RATE_LIMIT_SIGN_IN_PER_MINUTE: '2000',
  RATE_LIMIT_APP_POST_PER_MINUTE: '2000',
  RATE_LIMIT_BACKCHANNEL_LOGOUT_PER_MINUTE: '100',
  RATE_LIMIT_BACKCHANNEL_LOGOUT_GLOBAL_PER_MINUTE: '100000',
}

/** What `rawBackend()` and the app server read to find the store. */
export const storeSettings = (deployment: Deployment): Record<string, string> => ({
  SESSION_STORE: deployment.store,
  SESSION_STORE_SECRET,
  ...deployment.storeEnv,
})

/**
 * The Auth0 settings of an app server at `appURL` that signs in at `deployment`'s dev IdP, for a
 * story that starts a server of its own (the IdP need not know the URL unless the story signs in).
 */
export const auth0Env = (deployment: Deployment, appURL: string): Record<string, string> => ({
  NUXT_AUTH0_DOMAIN: new URL(idpURL(deployment)).host,
  NUXT_AUTH0_CLIENT_ID: IDP_CLIENT_ID,
  NUXT_AUTH0_CLIENT_SECRET: IDP_CLIENT_SECRET,
  NUXT_AUTH0_SESSION_SECRET: APP_SESSION_SECRET,
  NUXT_AUTH0_APP_BASE_URL: appURL,
})
