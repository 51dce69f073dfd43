import type { H3Event } from 'h3'
import { jwtClaims } from '../session-stores/session-index'

/**
 * Who is calling, from their own session only (never from the request): the `sub`, and the IdP
 * session `sid` from the id token (the SDK's internal sid can lag behind it after a re-login).
 */
export async function signedInSession(event: H3Event): Promise<{ sub: string, sid: string | undefined, idToken: string | undefined }> {
  const session = await useAuth0(event).getSession()
  const sub = session?.user?.sub
  if (!sub) throw createError({ statusCode: 401, statusMessage: 'Not signed in' })
  const sid = jwtClaims(session.idToken).sid
  return { sub, sid: typeof sid === 'string' ? sid : undefined, idToken: session.idToken }
}
