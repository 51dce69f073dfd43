import { currentSession } from '../utils/current-session'

/** The caller's own server-side session facts (never a token), for the profile and demo pages; 401 when signed out. */
export default defineEventHandler(event => currentSession(event))
