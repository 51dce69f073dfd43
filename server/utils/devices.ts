import type { H3Event } from 'h3'
import type { SessionSummary } from '../session-stores/encrypted-session-store'
import getSessionStoreInstance from './session-store-factory'
import { devIdpAdmin } from './dev-idp-admin'
import { signedInSession } from './signed-in-session'

/** One of the user's sessions as the devices page shows it: never its id, its sid or a token. */
export interface Device {
  /** Opaque, derived from the session id (EncryptedSessionStore.handleOf): what DELETE /api/sessions/:handle takes. */
  handle: string
  label: string
  type: string | undefined
  signedInAt: number
  /** Unix seconds, to within a few minutes (LAST_ACTIVE_EVERY_SECONDS). */
  lastActiveAt: number
  expiresAt: number
  current: boolean
}

export interface Devices {
  store: string
  devices: Device[]
}

/** The signed-in caller's sessions, with the store that holds them; 401 signed out, 404 in cookie mode (one session, in the cookie). */
export async function devicesOf(event: H3Event) {
  const store = getSessionStoreInstance()
  if (!store) throw createError({ statusCode: 404, statusMessage: 'With SESSION_STORE=cookie each session lives in its browser\'s cookie: there is no list of devices to show.' })
  const { sub, idToken } = await signedInSession(event)
  const sessions = await store.sessionsOf(sub, idToken, { lastActive: true })
  const shown = (session: SessionSummary): Device => ({
    handle: store.handleOf(session.id),
    label: session.device?.label ?? 'A device that signed in before devices were recorded',
    type: session.device?.type,
    signedInAt: session.createdAt,
    lastActiveAt: session.lastActiveAt,
    expiresAt: session.expiresAt,
    current: session.current,
  })
  return { store, sub, sessions, devices: sessions.map(shown) }
}

/**
 * devicesOf(), for a route that signs devices out: 409 when no session is marked as the caller's
 * (the one holding its id token; a token refresh racing the request can leave none), since the
 * caller's own could then be among those it ends.
 */
export async function devicesToSignOut(event: H3Event) {
  const devices = await devicesOf(event)
  if (!devices.sessions.some(session => session.current)) {
    throw createError({ statusCode: 409, statusMessage: 'This device could not be told apart from the others just now. Try again.' })
  }
  return devices
}

/**
 * Signs sessions out, on every app server at once: each leaves the store with a tombstone, so its
 * next request anywhere finds nothing and a refresh in flight cannot write it back. With the dev IdP,
 * its IdP session ends too (the IdP then sends a back-channel logout, which finds it gone); with
 * Auth0, ending IdP sessions needs its Sessions API (docs/devices.md).
 */
export async function signOut(event: H3Event, sub: string, sessions: SessionSummary[], why: 'device-signed-out' | 'other-devices-signed-out'): Promise<number> {
  const store = getSessionStoreInstance()!
  for (const session of sessions) await store.delete(session.id)
  const device = why === 'device-signed-out' ? sessions[0]?.device : undefined
  if (sessions.length) {
    await store.recordActivity(sub, why, { device, count: sessions.length })
  }
  if (useRuntimeConfig(event).public.devIdpUrl) {
    // The sessions are ended already: an IdP that cannot be asked (no admin secret, not answering) is logged, not a failure.
    const warn = (error: unknown) => console.warn(`[devices] the dev IdP did not end an IdP session: ${(error as Error).message}`)
    try {
      const admin = devIdpAdmin(event)
      for (const session of sessions) {
        if (session.sid) await admin.endSession(session.sid).catch(warn)
      }
    }
    catch (error) {
      warn(error)
    }
  }
  return sessions.length
}
