import { EmbeddedBackend } from '../session-stores/embedded-backend'
import { EncryptedSessionStore } from '../session-stores/encrypted-session-store'
import { MongoBackend } from '../session-stores/mongodb-backend'
import { PostgresBackend } from '../session-stores/postgres-backend'
import { RedisBackend } from '../session-stores/redis-backend'
import type { SessionBackend } from '../session-stores/session-backend'
import { readSessionStoreConfig, type BackendConfig } from '../session-stores/session-store-config'
import { UnavailableSessionStore } from '../session-stores/unavailable-session-store'

export type AppSessionStore = EncryptedSessionStore | UnavailableSessionStore

function createBackend(config: BackendConfig): SessionBackend {
  switch (config.kind) {
    case 'embedded': return new EmbeddedBackend(config)
    case 'redis': return new RedisBackend(config)
    case 'mongodb': return new MongoBackend(config)
    case 'postgres': return new PostgresBackend(config)
  }
}

/**
 * Builds the store SESSION_STORE names. Never throws: the SDK would silently fall back to cookie
 * sessions. A bad setting gives a store whose every call fails with the reason (a 503 page).
 * Connections are opened on first use, so this is synchronous and cheap.
 */
export function createSessionStore(env: Record<string, string | undefined> = process.env): AppSessionStore | undefined {
  try {
    const config = readSessionStoreConfig(env)
    if (config.kind === 'cookie') {
      console.info('[session-store] SESSION_STORE=cookie: sessions live in encrypted cookies (the SDK\'s stateless mode); no server-side store.')
      return undefined
    }
    const store = new EncryptedSessionStore({
      name: config.kind,
      backend: createBackend(config.backend),
      secret: config.secret,
      durations: config.durations,
    })
    console.info(`[session-store] sessions are kept in ${config.kind} at ${store.location} (encrypted at rest).`)
    return store
  }
  catch (error) {
    const store = new UnavailableSessionStore(error instanceof Error ? error.message : String(error))
    console.error(`[session-store] NO SESSION STORE: ${store.reason} Every page will answer 503 until this is fixed.`)
    return store
  }
}

let instance: AppSessionStore | undefined | null = null

/** The one store of this process (the SDK, the health route and the pages share it). */
export default function getSessionStoreInstance(): AppSessionStore | undefined {
  if (instance === null) instance = createSessionStore()
  return instance
}
