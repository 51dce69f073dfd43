import { devIdpAdmin } from '../../utils/dev-idp-admin'
import { signedInSession } from '../../utils/signed-in-session'

/** Asks the dev IdP to end the caller's own IdP session; the IdP then sends a back-channel logout. */
export default defineEventHandler(async (event) => {
  const admin = devIdpAdmin(event)
  const { sid } = await signedInSession(event)
  if (!sid) throw createError({ statusCode: 409, statusMessage: 'This session\'s id token carries no sid, so the IdP cannot end it by sid.' })
  return admin.endSession(sid)
})
