import type { ActivityEvent } from '../session-stores/activity'
import getSessionStoreInstance from '../utils/session-store-factory'
import { signedInSession } from '../utils/signed-in-session'

/** The caller's activity log, newest first (server/session-stores/activity.ts); 401 signed out, 404 in cookie mode. */
export default defineEventHandler(async (event): Promise<{ events: ActivityEvent[] }> => {
  const store = getSessionStoreInstance()
  if (!store) throw createError({ statusCode: 404, statusMessage: 'With SESSION_STORE=cookie there is no server-side activity log.' })
  const { sub } = await signedInSession(event)
  return { events: await store.activityOf(sub) }
})
