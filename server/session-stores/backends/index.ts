import type { BackendDefinition } from '../session-backend'
import { EnvReader, readStoreSettings, SessionStoreConfigError, type Env, type StoreSettings } from '../session-store-config'
import embedded from './embedded'
import mongodb from './mongodb'
import postgres from './postgres'
import redis from './redis'

/**
 * The only list of session store backends. The factory, the config, the tests and the bench take
 * their names from here: a new backend is one file beside this one, one line here, and one test
 * file calling the contract (README: "Add a backend").
 */
export const backends = { embedded, redis, postgres, mongodb } satisfies Record<string, BackendDefinition<unknown>>

export type BackendName = keyof typeof backends

/** What SESSION_STORE may say: a backend, or `cookie` for the SDK's stateless cookie sessions. */
export const SESSION_STORE_NAMES = [...Object.keys(backends) as BackendName[], 'cookie'] as const

export type SessionStoreConfig =
  | { kind: 'cookie' }
  | { kind: BackendName, backend: BackendDefinition<unknown>, backendSettings: unknown, store: StoreSettings, defaulted: boolean }

function isBackendName(name: string): name is BackendName {
  return Object.hasOwn(backends, name)
}

/** Reads and validates every session store setting; throws SessionStoreConfigError on the first bad one. */
export function readSessionStoreConfig(rawEnv: Env): SessionStoreConfig {
  const env = new EnvReader(rawEnv)
  const raw = env.optional('SESSION_STORE')
  const kind = (raw ?? 'embedded').toLowerCase()
  if (kind === 'cookie') return { kind }
  if (!isBackendName(kind)) {
    throw new SessionStoreConfigError(
      `SESSION_STORE="${raw}" is not a session store. Use one of: ${SESSION_STORE_NAMES.join(', ')} (unset means embedded).`)
  }
  const backend = backends[kind] as BackendDefinition<unknown>
  return { kind, backend, backendSettings: backend.settings(env), store: readStoreSettings(env), defaulted: raw === undefined }
}
