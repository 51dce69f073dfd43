import { SessionCrypto } from '../session-stores/session-crypto'
import { nowInSeconds } from '../session-stores/session-expiry'

/** How long a page may go on listing the user's sessions after the server last saw them signed in. */
export const SESSION_LIST_HANDLE_SECONDS = 3600

// The GCM additional data: a handle opens as nothing else, and nothing else opens as a handle.
const PURPOSE = 'session-list-handle/v1'

/**
 * Opaque handles on one user's list of sessions: their `sub` and an expiry, sealed with AES-256-GCM.
 * The demo page gets one while signed in, and lists the user's other devices with it once its own
 * session has ended and no cookie says who the user is. The browser never sees the `sub` it holds.
 */
export class SessionListHandles {
  readonly #crypto: SessionCrypto

  /** `secret` is the app's cookie secret; keys are derived for this use alone, never the store's. */
  constructor(secret: string) {
    this.#crypto = new SessionCrypto(`${secret}\0${PURPOSE}`)
  }

  issue(sub: string, now = nowInSeconds()): string {
    return this.#crypto.seal(PURPOSE, JSON.stringify({ sub, exp: now + SESSION_LIST_HANDLE_SECONDS })).toString('base64url')
  }

  /** The user's `sub`, or undefined for an expired, tampered or foreign handle. */
  open(handle: string, now = nowInSeconds()): string | undefined {
    const sealed = Buffer.from(handle, 'base64url')
    // Only the one spelling issue() writes: base64url decoding ignores a last character's spare bits.
    if (sealed.toString('base64url') !== handle) return undefined
    const plaintext = this.#crypto.open(PURPOSE, sealed)
    if (plaintext === undefined) return undefined
    const { sub, exp } = JSON.parse(plaintext) as { sub?: unknown, exp?: unknown }
    return typeof sub === 'string' && typeof exp === 'number' && now < exp ? sub : undefined
  }
}
