import type { H3Event } from 'h3'

export interface EndedIdpSessions {
  ended: Array<{ sub: string, sids: string[], backchannelLogout: Array<{ url: string, status?: number, error?: string }> }>
}

/**
 * The dev IdP's admin routes (dev-idp/README.md), which end IdP sessions so that the IdP sends
 * real back-channel logout tokens. Only there when the app signs in at the dev IdP
 * (NUXT_PUBLIC_DEV_IDP_URL, set by `npm run dev` and the e2e tests with NUXT_DEV_IDP_ADMIN_SECRET); otherwise a 404.
 */
export function devIdpAdmin(event: H3Event) {
  const config = useRuntimeConfig(event)
  const issuer = config.public.devIdpUrl
  if (!issuer) {
    throw createError({ statusCode: 404, statusMessage: 'The back-channel logout demo needs the local dev IdP (npm run dev without NUXT_AUTH0_DOMAIN).' })
  }
  if (!config.devIdpAdminSecret) {
    throw createError({
      statusCode: 500,
      statusMessage: 'NUXT_DEV_IDP_ADMIN_SECRET is not set: the dev IdP\'s admin routes need it. `npm run dev` sets it; '
        + 'when you start the app yourself, copy it from admin-secret in the dev IdP\'s data folder (.data/dev-idp/).',
    })
  }
  const call = (path: string, body: Record<string, string>) => $fetch<EndedIdpSessions>(new URL(path, issuer).toString(), {
    method: 'POST',
    body,
    headers: { authorization: `Bearer ${config.devIdpAdminSecret}` },
  })
  return {
    endSession: (sid: string) => call('dev/sessions/end', { sid }),
    endAllSessionsOf: (sub: string) => call('dev/users/end-all', { sub }),
  }
}
