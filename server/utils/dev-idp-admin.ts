import type { H3Event } from 'h3'

export interface EndedIdpSessions {
  ended: Array<{ sub: string, sids: string[], backchannelLogout: Array<{ url: string, status?: number, error?: string }> }>
}

/**
 * The dev IdP's admin routes (dev-idp/README.md), which end IdP sessions so that the IdP sends
 * real back-channel logout tokens. Only there when the app signs in at the dev IdP
 * (NUXT_PUBLIC_DEV_IDP_URL, set by `npm run dev` and the e2e tests); otherwise a 404.
 */
export function devIdpAdmin(event: H3Event) {
  const config = useRuntimeConfig(event)
  const issuer = config.public.devIdpUrl
  if (!issuer) {
    throw createError({ statusCode: 404, statusMessage: 'The back-channel logout demo needs the local dev IdP (npm run dev without NUXT_AUTH0_DOMAIN).' })
  }
  const call = (path: string, body: Record<string, string>) => $fetch<EndedIdpSessions>(new URL(path, issuer).toString(), {
    method: 'POST',
    body,
    headers: { authorization: `Bearer ${config.auth0.clientSecret}` },
  })
  return {
    endSession: (sid: string) => call('dev/sessions/end', { sid }),
    endAllSessionsOf: (sub: string) => call('dev/users/end-all', { sub }),
  }
}
