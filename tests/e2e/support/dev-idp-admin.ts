// The dev IdP's admin routes (dev-idp/README.md): end IdP sessions as an Auth0 admin, or the
// user signing out elsewhere, would; the IdP then POSTs real logout tokens to the app.
import type { APIRequestContext } from '@playwright/test'

export interface Delivery {
  url: string
  /** The claims of the logout token the IdP sent. */
  logoutToken: Record<string, unknown>
  status?: number
  error?: string
}

export interface EndedIdpSession {
  sub: string
  sids: string[]
  backchannelLogout: Delivery[]
}

export class DevIdpAdmin {
  constructor(readonly request: APIRequestContext) {}

  /** The sids of the user's live IdP sessions. */
  async sidsOf(sub: string): Promise<string[]> {
    const response = await this.request.get(`dev/sessions?sub=${encodeURIComponent(sub)}`)
    if (!response.ok()) throw new Error(`GET /dev/sessions answered ${response.status()}: ${await response.text()}`)
    const { sessions } = await response.json() as { sessions: { sids: string[] }[] }
    return sessions.flatMap(session => session.sids)
  }

  /** Ends the IdP session `sid`; resolves with what the IdP ended and what the app answered to each logout token. */
  endSession(sid: string): Promise<EndedIdpSession[]> {
    return this.#end('dev/sessions/end', { sid })
  }

  /** Ends every IdP session of the user ("sign out everywhere"). */
  endAllSessionsOf(sub: string): Promise<EndedIdpSession[]> {
    return this.#end('dev/users/end-all', { sub })
  }

  async #end(path: string, body: Record<string, string>): Promise<EndedIdpSession[]> {
    const response = await this.request.post(path, { data: body })
    if (!response.ok()) throw new Error(`POST /${path} ${JSON.stringify(body)} answered ${response.status()}: ${await response.text()}`)
    return (await response.json() as { ended: EndedIdpSession[] }).ended
  }
}
