/** What happened to a user's sessions, as the devices page lists it and the operator's log records it. */
export type ActivityType =
  | 'signed-in'
  | 'signed-out'
  /** The IdP ended one IdP session (a logout token naming a sid). */
  | 'signed-out-by-idp'
  /** The IdP ended every session of the user (a logout token naming the sub alone). */
  | 'signed-out-everywhere-by-idp'
  | 'device-signed-out'
  | 'other-devices-signed-out'

export interface ActivityEvent {
  type: ActivityType
  /** Unix seconds. */
  at: number
  /** The device the event was about (or, for the user's own actions, the one they used). */
  device: string | undefined
  /** How many sessions it ended, where it ended several. */
  count?: number
}

/** How many events a user's log keeps, and for how long after its last event. */
export const ACTIVITY_KEEP = 50
export const ACTIVITY_SECONDS = 30 * 24 * 3600

// Records that are not the SDK's sessions, kept through the same backend calls as sessions (sealed,
// expiring, never indexed by user): a user's activity log, and when each session was last active.
// SDK and migrated session ids are hex or UUIDs, so these prefixes never name one of them.
export const ACTIVITY_PREFIX = 'activity-'
export const LAST_ACTIVE_PREFIX = 'seen-'

/** Whether a record the backend holds is an activity log or a last-active time rather than a session. */
export const isAccountRecord = (id: string) => id.startsWith(ACTIVITY_PREFIX) || id.startsWith(LAST_ACTIVE_PREFIX)
