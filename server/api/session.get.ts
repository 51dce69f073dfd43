import { currentSession } from '../utils/current-session'

/** The caller's own server-side session facts (never a token), for the profile and demo pages. */
export default defineEventHandler(async (event) => {
  const session = await currentSession(event)
  if (!session) throw createError({ statusCode: 401, statusMessage: 'Not signed in' })
  return session
})
