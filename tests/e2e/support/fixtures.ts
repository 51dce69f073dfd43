// The e2e tests' `test`: @nuxt/test-utils/playwright's (its `goto` waits for Nuxt to hydrate, and
// its baseURL is the project's app server, `nuxt.host`), plus each project's deployment, the dev
// IdP's admin routes, fresh users who are signed out everywhere when the test ends, and a raw view
// of the project's session store.
import { randomBytes } from 'node:crypto'
import { test as base, expect } from '@nuxt/test-utils/playwright'
import { adminSecret } from '../../../dev-idp/generated-secrets.mjs'
import { rawBackend, type RawBackend } from '../../support/raw-backends'
import { DevIdpAdmin } from './dev-idp-admin'
import { IDP_DATA_DIR, idpURL, storeSettings, type Deployment } from './deployments'
import { devUser, type DevUser } from './sign-in'

export interface DeploymentOptions {
  deployment: Deployment
}

/** The project's session store, read directly, as an operator or an attacker with a dump would. */
export interface StoreView {
  /** Whether the store holds a record with this id (the SDK's id, from /api/session). */
  holds(id: string): Promise<boolean>
  dump(): Promise<string>
}

interface WorkerFixtures extends DeploymentOptions {
  store: StoreView
}

interface TestFixtures {
  idp: DevIdpAdmin
  /** A user no other test uses; call it again for a second user. */
  newUser: () => DevUser
  user: DevUser
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  deployment: [undefined as unknown as Deployment, { option: true, scope: 'worker' }],

  store: [async ({ deployment }, use) => {
    const raw: RawBackend = rawBackend(storeSettings(deployment))
    await use({
      holds: async id => (await raw.nativeExpiry(id)) !== undefined,
      dump: () => raw.dump(),
    })
    await raw.close()
  }, { scope: 'worker' }],

  idp: async ({ playwright, deployment }, use) => {
    const request = await playwright.request.newContext({
      baseURL: idpURL(deployment),
      ignoreHTTPSErrors: true,
      // A fresh connection per call: a reused keep-alive socket can be closed by the IdP as the request leaves.
      extraHTTPHeaders: { authorization: `Bearer ${await adminSecret(IDP_DATA_DIR)}`, connection: 'close' },
    })
    await use(new DevIdpAdmin(request))
    await request.dispose()
  },

  newUser: async ({ idp, deployment }, use) => {
    const created: DevUser[] = []
    await use(() => {
      const user = devUser(`e2e ${deployment.store} ${randomBytes(5).toString('hex')}`)
      created.push(user)
      return user
    })
    // Clean up: end what is left of their IdP sessions, which also removes their stored sessions.
    for (const user of created) {
      if ((await idp.sidsOf(user.sub)).length) await idp.endAllSessionsOf(user.sub)
    }
  },

  user: async ({ newUser }, use) => {
    await use(newUser())
  },
})

export { expect }
