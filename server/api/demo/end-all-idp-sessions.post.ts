import { devIdpAdmin } from '../../utils/dev-idp-admin'
import { signedInSession } from '../../utils/signed-in-session'

/** Asks the dev IdP to end every IdP session of the caller ("sign out everywhere"). */
export default defineEventHandler(async (event) => {
  const admin = devIdpAdmin(event)
  const { sub } = await signedInSession(event)
  return admin.endAllSessionsOf(sub)
})
