import { authRoutes, canonicalPath } from '../security/auth-routes'
import type { DeviceFacts } from '../session-stores/device'
import getSessionStoreInstance from '../utils/session-store-factory'

const logoutPath = authRoutes(useRuntimeConfig().public.auth0?.routes).logout.toLowerCase()

/**
 * Records "signed out" in the user's activity log as the SDK's logout route is about to end the
 * session (after cross-site-requests.ts let the request through). The SDK does not say which of its
 * store deletes is a logout and which the rotation of an id at sign-in, so the route is where to tell.
 */
export default defineEventHandler(async (event) => {
  if (event.method !== 'GET' || canonicalPath(event.path) !== logoutPath) return
  const store = getSessionStoreInstance()
  if (!store) return
  const session = await useAuth0(event).getSession().catch(() => undefined)
  const sub = session?.user?.sub
  if (!sub) return
  // The store keeps the device in the session's state, which the SDK hands back whole.
  const device = (session as { device?: DeviceFacts }).device
  await store.recordActivity(sub, 'signed-out', { device })
})
