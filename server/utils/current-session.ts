import type { H3Event } from 'h3'
import type { SessionSummary } from '../session-stores/encrypted-session-store'
import getSessionStoreInstance from './session-store-factory'

export interface CurrentSession {
  /** Which backend holds the session, or `cookie` in the SDK's stateless mode. */
  store: string
  current: SessionSummary | undefined
  /** The user's other live sessions (other browsers or devices). */
  others: SessionSummary[]
}

/** The signed-in user's server-side sessions, or undefined when nobody is signed in. */
export async function currentSession(event: H3Event): Promise<CurrentSession | undefined> {
  const session = await useAuth0(event).getSession()
  const sub = session?.user?.sub
  if (!sub) return undefined
  const store = getSessionStoreInstance()
  if (!store) return { store: 'cookie', current: undefined, others: [] }

  const sessions = await store.sessionsOf(sub, session.idToken)
  return {
    store: store.name,
    current: sessions.find(summary => summary.current),
    others: sessions.filter(summary => !summary.current),
  }
}
