import { isError } from 'h3'
import type { SessionSummary } from '../../session-stores/encrypted-session-store'
import { sessionsOfUser } from '../../utils/current-session'
import { SessionListHandles } from '../../utils/session-list-handle'
import { signedInSession } from '../../utils/signed-in-session'

/** One of the user's sessions as the demo shows it: the start of its store id, never the whole id or a token. */
export interface DemoSession {
  ref: string
  createdAt: number
  expiresAt: number
}

export interface DemoSessions {
  store: string
  /** This browser's session, while it lasts. */
  current?: DemoSession & { sid: string | undefined }
  /** The user's other browsers and devices, still listed after this browser's session ended. */
  others: DemoSession[]
  /** Given while signed in: sent back as `Authorization: Bearer <handle>`, it goes on listing `others` after sign-out. */
  handle?: string
}

let handles: SessionListHandles | undefined

const shown = ({ id, createdAt, expiresAt }: SessionSummary): DemoSession => ({ ref: id.slice(0, 8), createdAt, expiresAt })

/**
 * The back-channel logout demo's view of the user's sessions. Once the IdP has ended this browser's
 * session, its cookie names nobody; the handle the page received while signed in still says whose
 * other sessions to list (server/utils/session-list-handle.ts). 401 with neither.
 */
export default defineEventHandler(async (event): Promise<DemoSessions> => {
  handles ??= new SessionListHandles(useRuntimeConfig().auth0.sessionSecret)
  const signedIn = await signedInSession(event).catch((error: unknown) => {
    if (isError(error) && error.statusCode === 401) return undefined
    throw error
  })
  if (signedIn) {
    const { store, current, others } = await sessionsOfUser(signedIn.sub, signedIn.idToken)
    return { store, current: current && { ...shown(current), sid: current.sid }, others: others.map(shown), handle: handles.issue(signedIn.sub) }
  }

  const handle = /^Bearer (\S+)$/.exec(getRequestHeader(event, 'authorization') ?? '')?.[1]
  const sub = handle === undefined ? undefined : handles.open(handle)
  if (!sub) throw createError({ statusCode: 401, statusMessage: 'Not signed in' })
  const { store, others } = await sessionsOfUser(sub)
  return { store, others: others.map(shown) }
})
