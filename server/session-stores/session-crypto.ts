import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync, randomFillSync, type KeyObject } from 'node:crypto'

const IV_BYTES = 12
const TAG_BYTES = 16
const SALT = 'auth0-nuxt-session-store/v1'

// KeyObjects, not Buffers: OpenSSL 3 imports a Buffer key on every call (an HMAC costs 13 µs instead of 2).
function deriveKey(secret: string, purpose: string): KeyObject {
  return createSecretKey(Buffer.from(hkdfSync('sha256', secret, SALT, purpose, 32)))
}

/** Random IVs taken from a pool filled by the CSPRNG 1 024 at a time: one call per IV costs 5 µs. */
const ivPool = Buffer.alloc(IV_BYTES * 1024)
let ivOffset = ivPool.length

function randomIv(): Buffer {
  if (ivOffset === ivPool.length) {
    randomFillSync(ivPool)
    ivOffset = 0
  }
  ivOffset += IV_BYTES
  // A copy: the pool is refilled in place.
  return Buffer.from(ivPool.subarray(ivOffset - IV_BYTES, ivOffset))
}

/**
 * Encryption at rest for session payloads, and keyed hashes for index keys, both derived from one
 * secret. A dump of the database then holds no token, e-mail or `sub`, and a payload copied to
 * another session id does not decrypt (the id is the GCM additional data).
 */
export class SessionCrypto {
  readonly #encryptionKey: KeyObject
  readonly #indexKey: KeyObject

  constructor(secret: string) {
    this.#encryptionKey = deriveKey(secret, 'payload encryption')
    this.#indexKey = deriveKey(secret, 'index keys')
  }

  /** AES-256-GCM; the result is iv | tag | ciphertext. */
  seal(sessionId: string, plaintext: string): Buffer {
    const iv = randomIv()
    const cipher = createCipheriv('aes-256-gcm', this.#encryptionKey, iv)
    cipher.setAAD(Buffer.from(sessionId))
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    return Buffer.concat([iv, cipher.getAuthTag(), ciphertext])
  }

  /** The plaintext, or undefined when the payload was tampered with, belongs to another id or another secret. */
  open(sessionId: string, sealed: Buffer): string | undefined {
    if (sealed.length < IV_BYTES + TAG_BYTES) return undefined
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#encryptionKey, sealed.subarray(0, IV_BYTES))
      decipher.setAAD(Buffer.from(sessionId))
      decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES))
      return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8')
    }
    catch {
      return undefined
    }
  }

  /** HMAC-SHA256 of a claim, so an index can be searched by `sid` or `sub` without storing either. */
  indexKey(claim: 'sid' | 'sub' | 'iss' | 'jti' | 'stateless-cookie' | 'session-handle' | 'activity', value: string): string {
    return `${claim}:${createHmac('sha256', this.#indexKey).update(`${claim}\0${value}`).digest('base64url')}`
  }

  /** How log lines name a user: 8 hex characters of a keyed hash of `sub`, the same for the same user, never the `sub`. */
  logRef(sub: string): string {
    return createHmac('sha256', this.#indexKey).update(`log\0${sub}`).digest('hex').slice(0, 8)
  }

  /** A session id shaped like the SDK's (32 hex characters), the same for the same `value`, unguessable without the secret. */
  derivedSessionId(value: string): string {
    return createHmac('sha256', this.#indexKey).update(`session-id\0${value}`).digest('hex').slice(0, 32)
  }
}
