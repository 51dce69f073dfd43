import type { BackendName } from '../session-stores/backends'
import getSessionStoreInstance from './session-store-factory'

/** One answer of the store stands for every page view for this long: at most one ping per interval, whatever the traffic. */
const RECHECK_MS = 5_000

/** How a visitor reads each backend's name (the registry's `name` is the SESSION_STORE value). */
const STORE_NAMES: Record<BackendName, string> = { redis: 'Redis', postgres: 'PostgreSQL', mongodb: 'MongoDB', embedded: 'embedded' }

export interface SignInAvailability {
  /** False while the session store does not answer: a sign-in would end on a 503 after the IdP. */
  available: boolean
  /** Which store, in plain words ("Redis"); like /api/health's `store`, never its address. */
  store?: string
  /** Why, with the address and how to start it: in development only (docs/security.md, "Secrets and error details"). */
  reason?: string
}

let last: { at: number, answer: SignInAvailability } | undefined
let checking: Promise<SignInAvailability> | undefined

async function checkStore(): Promise<SignInAvailability> {
  const store = getSessionStoreInstance()
  // No store (cookie sessions): nothing that could be down. A misconfigured one: every page is a 503 already.
  if (!store) return { available: true }
  const name = STORE_NAMES[store.name as BackendName] ?? store.name
  try {
    // The store's guard fails at once while it knows the backend is down: no network wait then.
    await store.ping()
    return { available: true, store: name }
  }
  catch (error) {
    return { available: false, store: name, ...(import.meta.dev && { reason: error instanceof Error ? error.message : String(error) }) }
  }
}

/**
 * Whether a visitor who signs in now can get a session, for the home page's banner. Cached for
 * RECHECK_MS and shared by concurrent callers, so a busy home page costs the store one ping per interval.
 */
export async function signInAvailability(): Promise<SignInAvailability> {
  if (last && Date.now() - last.at < RECHECK_MS) return last.answer
  checking ??= checkStore().then((answer) => {
    last = { at: Date.now(), answer }
    checking = undefined
    return answer
  })
  return checking
}
