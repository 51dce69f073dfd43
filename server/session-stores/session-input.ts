import type { StateData } from '@auth0/auth0-nuxt'
import { SessionInputError } from './session-store-errors'

// The SDK's ids are 32 hex characters; the guide's tests use names like `test-id-2`. Nothing that
// could be a path, a key separator or control character, and nothing huge.
const SESSION_ID = /^[\w.:-]{1,128}$/

/** Bounded by what a cookie-sized session holds many times over: a bug, not a session, beyond it. */
const MAX_STATE_BYTES = 1_000_000

function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value)
  if (typeof value === 'number') return String(value)
  return value === null ? 'null' : typeof value
}

/** Throws SessionInputError unless `id` can be a session id. */
export function checkSessionId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !SESSION_ID.test(id)) {
    throw new SessionInputError(`A session id must be 1 to 128 letters, digits or . _ : -; got ${describe(id)}.`)
  }
}

/**
 * The StateData as JSON, after checking what the store relies on: `internal.createdAt` a finite
 * number of seconds, `internal.sid` a string, and a value JSON can hold. Throws SessionInputError,
 * before any backend work, naming what is wrong.
 */
export function serializeState(state: unknown): string {
  if (typeof state !== 'object' || state === null) throw new SessionInputError(`StateData must be an object; got ${describe(state)}.`)
  const internal = (state as Partial<StateData>).internal as unknown
  if (typeof internal !== 'object' || internal === null) {
    throw new SessionInputError(`StateData.internal must be an object with sid and createdAt; got ${describe(internal)}.`)
  }
  const { sid, createdAt } = internal as Record<string, unknown>
  if (typeof createdAt !== 'number' || !Number.isFinite(createdAt) || createdAt <= 0) {
    throw new SessionInputError(`StateData.internal.createdAt must be a positive number of seconds; got ${describe(createdAt)}.`)
  }
  if (typeof sid !== 'string') throw new SessionInputError(`StateData.internal.sid must be a string; got ${describe(sid)}.`)
  let json: string
  try {
    json = JSON.stringify(state)
  }
  catch (error) {
    throw new SessionInputError(`StateData cannot be stored as JSON: ${(error as Error).message}`, { cause: error })
  }
  if (json.length > MAX_STATE_BYTES) {
    throw new SessionInputError(`StateData is ${json.length} bytes as JSON, above the ${MAX_STATE_BYTES} a session may hold.`)
  }
  return json
}
