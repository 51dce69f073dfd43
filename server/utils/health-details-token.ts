import { createHash, timingSafeEqual } from 'node:crypto'

// Long enough that guessing it over the network is hopeless.
const MIN_TOKEN_LENGTH = 32

/**
 * HEALTH_DETAILS_TOKEN, or undefined when unset. A token too short to resist guessing is refused
 * with a log line saying what to do, and then no request sees the details.
 */
export function readHealthDetailsToken(env: Record<string, string | undefined>): string | undefined {
  const token = env.HEALTH_DETAILS_TOKEN?.trim()
  if (!token) return undefined
  if (token.length < MIN_TOKEN_LENGTH) {
    console.error(`[health] HEALTH_DETAILS_TOKEN must hold at least ${MIN_TOKEN_LENGTH} characters; it holds ${token.length}, `
      + 'so /api/health shows no details to anyone and /api/metrics answers 404. Generate one with: openssl rand -hex 32')
    return undefined
  }
  return token
}

let configured: string | undefined | null = null

/** HEALTH_DETAILS_TOKEN of this process, read (and complained about) once for every route it guards. */
export function healthDetailsToken(): string | undefined {
  if (configured === null) configured = readHealthDetailsToken(process.env)
  return configured
}

/** Whether an Authorization header is `Bearer <token>`; digests are compared, so the time taken tells nothing of the token. */
export function isBearerToken(authorization: string | undefined, token: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest()
  return timingSafeEqual(digest(authorization ?? ''), digest(`Bearer ${token}`))
}
