// @ts-check
// Dev/test-only routes that end IdP sessions as an Auth0 admin (or a user elsewhere) would, so
// the app receives real back-channel logout tokens. Only the app may call them: it proves it
// with the admin secret generated on first run (`Authorization: Bearer <admin secret>`), never
// with the client secret, whose default value is published in this repository.
import { timingSafeEqual } from 'node:crypto'
import { collectDeliveries } from './backchannel-delivery.mjs'

/** @typedef {import('./backchannel-delivery.mjs').Delivery} Delivery */
/** @typedef {import('./memory-adapter.mjs').StoredSession} StoredSession */
/** @typedef {{ status: number, body: unknown }} Reply */

/**
 * Ends IdP sessions the way oidc-provider's end_session does: a logout token to every client
 * signed in through the session (`client.backchannelLogout` builds, signs and POSTs it, one
 * token per session carrying both `sub` and `sid`), then its grants and the session itself go.
 * @param {any} provider the oidc-provider instance
 * @param {StoredSession[]} sessions
 */
async function endSessions(provider, sessions) {
  const ended = []
  for (const session of sessions) {
    /** @type {Delivery[]} */
    const backchannelLogout = []
    for (const [clientId, { sid, grantId }] of Object.entries(session.authorizations ?? {})) {
      const client = await provider.Client.find(clientId)
      if (client?.backchannelLogoutUri) {
        // A failed POST is reported in the reply (its status or error), not thrown.
        const { deliveries } = await collectDeliveries(() => client.backchannelLogout(session.accountId, sid).catch(() => {}))
        backchannelLogout.push(...deliveries)
      }
      if (grantId) {
        await Promise.all([provider.AccessToken, provider.RefreshToken, provider.AuthorizationCode]
          .map((model) => model.adapter.revokeByGrantId(grantId)))
        await provider.Grant.adapter.destroy(grantId)
      }
    }
    await provider.Session.adapter.destroy(session.jti)
    ended.push({ sub: session.accountId, sids: sidsOf(session), backchannelLogout })
  }
  return ended
}

/** @param {StoredSession} session the per-client `sid`s, as the app sees them in id tokens */
const sidsOf = (session) => Object.values(session.authorizations ?? {}).map(({ sid }) => sid)

/**
 * @param {string} given
 * @param {string} expected
 */
function sameSecret(given, expected) {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * @param {{ provider: any, sessions: () => StoredSession[], adminSecret: string }} options
 * @returns {(method: string, path: string, authorization: string | undefined, body: Record<string, unknown>, query: URLSearchParams) => Promise<Reply | undefined>}
 *   undefined when the path is not an admin route
 */
export function adminRoutes({ provider, sessions, adminSecret }) {
  /** @type {Record<string, (body: Record<string, unknown>, query: URLSearchParams) => Promise<Reply>>} */
  const routes = {
    'GET /dev/sessions': async (_body, query) => {
      const sub = query.get('sub')
      const live = sessions().filter((session) => !sub || session.accountId === sub)
      return { status: 200, body: { sessions: live.map((session) => ({ sub: session.accountId, sids: sidsOf(session), loginAt: session.loginTs })) } }
    },
    'POST /dev/sessions/end': async ({ sid }) => {
      if (typeof sid !== 'string' || !sid) return { status: 400, body: { error: 'Send a JSON body { "sid": "<the sid claim of an id token>" }.' } }
      const matching = sessions().filter((session) => sidsOf(session).includes(sid))
      if (!matching.length) return { status: 404, body: { error: `No live IdP session has sid "${sid}". GET /dev/sessions lists them.` } }
      return { status: 200, body: { ended: await endSessions(provider, matching) } }
    },
    'POST /dev/users/end-all': async ({ sub }) => {
      if (typeof sub !== 'string' || !sub) return { status: 400, body: { error: 'Send a JSON body { "sub": "dev|<user>" }.' } }
      const matching = sessions().filter((session) => session.accountId === sub)
      if (!matching.length) return { status: 404, body: { error: `User "${sub}" has no live IdP session. GET /dev/sessions lists them.` } }
      return { status: 200, body: { ended: await endSessions(provider, matching) } }
    },
  }

  return async (method, path, authorization, body, query) => {
    const route = routes[`${method} ${path}`]
    if (!route) return undefined
    if (!sameSecret(authorization ?? '', `Bearer ${adminSecret}`)) {
      return { status: 401, body: { error: 'Send the admin secret as "Authorization: Bearer <secret>": it is in admin-secret in the IdP\'s data folder (.data/dev-idp/ by default). The client secret is not accepted.' } }
    }
    return route(body, query)
  }
}
