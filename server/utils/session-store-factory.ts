import { readSessionStoreConfig } from '../session-stores/backends'
import { EncryptedSessionStore } from '../session-stores/encrypted-session-store'
import { UnavailableSessionStore } from '../session-stores/unavailable-session-store'

export type AppSessionStore = EncryptedSessionStore | UnavailableSessionStore

/**
 * Builds the store SESSION_STORE names. Never throws: the SDK would silently fall back to cookie
 * sessions. A bad setting gives a store whose every call fails with the reason (a 503 page).
 * Connections are opened on first use, so this is synchronous and cheap.
 */
export function createSessionStore(
  env: Record<string, string | undefined> = process.env,
  // Where a new session's User-Agent comes from: the request being served; a test passes its own.
  request: { userAgent: () => string | undefined } = { userAgent: userAgentOfRequest },
): AppSessionStore | undefined {
  try {
    const config = readSessionStoreConfig(env)
    if (config.kind === 'cookie') {
      console.info('[session-store] SESSION_STORE=cookie: sessions live in encrypted cookies (the SDK\'s stateless mode); no server-side store.')
      return undefined
    }
    const { backend, backendSettings, store: settings } = config
    const store = new EncryptedSessionStore({
      name: backend.name,
      backend: backend.create(backendSettings, settings),
      startHint: backend.startHint,
      secret: settings.secret,
      durations: settings.durations,
      timeoutMs: settings.timeoutMs,
      userAgentOfRequest: request.userAgent,
    })
    console.info(`[session-store] sessions are kept in ${backend.name} at ${store.location} (encrypted at rest).`)
    if (config.defaulted && env.NODE_ENV === 'production') {
      console.warn('[session-store] WARNING: SESSION_STORE is not set, so this production server keeps sessions in the embedded store: '
        + 'one process, one machine, files on local disk. Set SESSION_STORE=redis (or postgres, mongodb) for production; '
        + 'set SESSION_STORE=embedded to keep it and silence this warning.')
    }
    return store
  }
  catch (error) {
    const store = new UnavailableSessionStore(error instanceof Error ? error.message : String(error))
    console.error(`[session-store] NO SESSION STORE: ${store.reason} Every page will answer 503 until this is fixed.`)
    return store
  }
}

/**
 * The User-Agent of the request this code runs for (Nitro's async context, nuxt.config.ts; '' when
 * the client sent none), or undefined outside a request (scheduled tasks, scripts, tests).
 */
function userAgentOfRequest(): string | undefined {
  try {
    return getRequestHeader(useEvent(), 'user-agent') ?? ''
  }
  catch {
    return undefined
  }
}

let instance: AppSessionStore | undefined | null = null

/** The one store of this process (the SDK, the health route and the pages share it). */
export default function getSessionStoreInstance(): AppSessionStore | undefined {
  if (instance === null) instance = createSessionStore()
  return instance
}
