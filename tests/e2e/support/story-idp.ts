// A dev IdP of a story's own, for a story that restarts an app server of its own (another store,
// another mode): the project's IdP knows only the project's app servers.
import type { APIRequest } from '@playwright/test'
import { appEnvForDevIdp, startDevIdp } from '../../../dev-idp/index.mjs'
import { APP_SERVER_ENV, APP_SESSION_SECRET, IDP_CLIENT_ID, IDP_CLIENT_SECRET, IDP_DATA_DIR } from './deployments'
import { DevIdpAdmin } from './dev-idp-admin'

export interface StoryIdp {
  /** Its admin routes: end a user's IdP session, and it sends the logout token to the story's app. */
  admin: DevIdpAdmin
  /** What the story's app server needs besides its store: the same build and secrets at every restart. */
  appEnv: Record<string, string>
  close(): Promise<void>
}

/** Starts an IdP that signs in at, and sends back-channel logouts to, the app server at `appURL`. */
export async function startStoryIdp(request: APIRequest, appURL: string): Promise<StoryIdp> {
  const idp = await startDevIdp({ port: 0, appBaseUrls: [appURL], clientId: IDP_CLIENT_ID, clientSecret: IDP_CLIENT_SECRET, dataDir: IDP_DATA_DIR, log: () => {} })
  const adminRequests = await request.newContext({
    baseURL: idp.issuer,
    ignoreHTTPSErrors: true,
    extraHTTPHeaders: { authorization: `Bearer ${idp.adminSecret}`, connection: 'close' },
  })
  return {
    admin: new DevIdpAdmin(adminRequests),
    appEnv: {
      ...APP_SERVER_ENV,
      ...await appEnvForDevIdp(idp, { appBaseUrl: appURL, env: { NUXT_AUTH0_SESSION_SECRET: APP_SESSION_SECRET } }),
    },
    async close() {
      await adminRequests.dispose()
      await idp.close()
    },
  }
}
