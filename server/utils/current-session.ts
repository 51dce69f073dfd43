import type { H3Event } from 'h3'
import type { SessionSummary } from '../session-stores/encrypted-session-store'
import getSessionStoreInstance from './session-store-factory'
import { signedInSession } from './signed-in-session'

export interface CurrentSession {
  /** Which backend holds the session, or `cookie` in the SDK's stateless mode. */
  store: string
  current: SessionSummary | undefined
  /** The user's other live sessions (other browsers or devices). */
  others: SessionSummary[]
}

/** The signed-in user's server-side sessions; 401 when nobody is signed in. */
export async function currentSession(event: H3Event): Promise<CurrentSession> {
  const { sub, idToken } = await signedInSession(event)
  return sessionsOfUser(sub, idToken)
}

/** A user's live sessions: the one holding `idToken` (the caller's, if given) apart from the others. */
export async function sessionsOfUser(sub: string, idToken?: string): Promise<CurrentSession> {
  const store = getSessionStoreInstance()
  if (!store) return { store: 'cookie', current: undefined, others: [] }

  const sessions = await store.sessionsOf(sub, idToken)
  return {
    store: store.name,
    current: sessions.find(summary => summary.current),
    others: sessions.filter(summary => !summary.current),
  }
}
