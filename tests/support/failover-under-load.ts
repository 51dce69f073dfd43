// A Redis Cluster master killed in the middle of load, measured through a real store: logins, reads and
// logouts of many sessions (so every master is hit) go on while the master dies and its replica takes
// over. The report says how soon after the promotion each kind of call worked again on the sessions of
// the failed-over slots, whether an ended session came back, and which acknowledged logins were lost.
import { randomInt } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { StateData } from '@auth0/auth0-nuxt'
import type { EncryptedSessionStore } from '~/server/session-stores/encrypted-session-store'
import type { RedisCluster } from './redis-cluster'
import { newSessionId, newStateData } from './state-data'

export const CALL_KINDS = ['login', 'read', 'logout', 'back-channel logout'] as const
export type CallKind = typeof CALL_KINDS[number]

export interface FailoverReport {
  /** From the SIGKILL to the first survivor's CLUSTER NODES showing the replica promoted. */
  killedToPromotedMs: number
  /**
   * Per kind of call, on sessions of the failed-over slots: from the promotion to the end of the first
   * call after which no call of that kind failed. Undefined: it never worked again.
   */
  resumedMs: Record<CallKind, number | undefined>
  calls: number
  failedCalls: number
  /** Per kind of call, on sessions of the failed-over slots: how many, and how many failed. */
  onFailedOverSlots: Record<CallKind, { calls: number, failed: number }>
  sessions: number
  /** Sessions whose logout resolved, later read back (by a read, or after a refresh still in flight), with their calls. */
  resurrected: Array<{ id: string, end: string, failedOver: boolean, calls: string[] }>
  /** Sessions whose login resolved and that no logout touched, later read as unknown; by where their key lives. */
  lostWrites: { failedOver: string[], elsewhere: string[] }
  /** The sessions whose login resolved and that no logout touched: what lostWrites is out of. */
  writesChecked: number
}

interface Session {
  id: string
  slot: number
  state: StateData
  /** How it ends: a logout, a back-channel logout, or not at all (then it is checked for a lost write). */
  end: 'logout' | 'back-channel logout' | 'kept'
  loggedIn: boolean
  endTried: boolean
  /** When the call that ended it resolved. */
  endedAt?: number
  resurrected: boolean
  lost: boolean
  /** Its calls, for the report of a resurrected session. */
  calls: Array<{ what: string, startedAt: number, endedAt: number, outcome: string }>
}

interface Call {
  kind: CallKind
  session: Session
  startedAt: number
  endedAt: number
  ok: boolean
}

export interface FailoverLoad {
  cluster: RedisCluster
  store: EncryptedSessionStore
  /** The Redis key a session id is kept under: it says which master serves the session. */
  sessionKey: (id: string) => string
  /** Calls in flight at once. */
  concurrency?: number
  /** Load before the kill. */
  warmUpMs?: number
  /** How long every kind of call must have worked after the promotion before the load stops. */
  steadyMs?: number
  /** The load stops this long after the promotion whatever happens. */
  giveUpMs?: number
}

const ENDS = ['logout', 'back-channel logout', 'kept'] as const

export async function failoverUnderLoad({
  cluster, store, sessionKey, concurrency = 12, warmUpMs = 1500, steadyMs = 2000, giveUpMs = 12_000,
}: FailoverLoad): Promise<FailoverReport> {
  const calls: Call[] = []
  const sessions: Session[] = []
  /** Sessions whose login resolved: any of them may be read. */
  const signedIn: Session[] = []
  /** Those still to be ended, by how. */
  const toEnd: Record<'logout' | 'back-channel logout', Session[]> = { 'logout': [], 'back-channel logout': [] }
  let stopped = false

  async function newSessions(count: number): Promise<Session[]> {
    const ids = Array.from({ length: count }, () => newSessionId())
    const slots = await cluster.slotsOfKeys(ids.map(sessionKey))
    return ids.map((id, i) => ({
      id, slot: slots[i]!, state: newStateData(), end: ENDS[(sessions.length + i) % ENDS.length]!,
      loggedIn: false, endTried: false, resurrected: false, lost: false, calls: [],
    }))
  }

  /** Runs a call of `session`; a call of a CallKind counts in the figures, the others (a refresh, a check) only in its trace. */
  async function timed<T>(what: CallKind | 'refresh' | 'check', session: Session, call: () => Promise<T>): Promise<{ ok: true, value: T } | { ok: false }> {
    const startedAt = Date.now()
    const done = (ok: boolean, outcome: string) => {
      const endedAt = Date.now()
      session.calls.push({ what, startedAt, endedAt, outcome })
      if (what !== 'refresh' && what !== 'check') calls.push({ kind: what, session, startedAt, endedAt, ok })
    }
    try {
      const value = await call()
      done(true, value === undefined ? 'resolved' : 'found')
      return { ok: true, value }
    }
    catch (error) {
      done(false, error instanceof Error ? error.message : String(error))
      // As a browser would not retry at once; and while the store knows Redis down it fails at once.
      await sleep(20)
      return { ok: false }
    }
  }

  /** Reads `session`, noting a resurrection or a lost write; false when the call failed. */
  async function read(session: Session, what: 'read' | 'check'): Promise<boolean> {
    const startedAt = Date.now()
    const got = await timed(what, session, () => store.get(session.id))
    if (!got.ok) return false
    if (got.value !== undefined && session.endedAt !== undefined && startedAt > session.endedAt) session.resurrected = true
    // A logout begun meanwhile may have ended it.
    if (got.value === undefined && !session.endTried) session.lost = true
    return true
  }

  async function login(session: Session): Promise<void> {
    sessions.push(session)
    // A login that failed may or may not have been written: such a session is not checked.
    if (!(await timed('login', session, () => store.set(session.id, session.state))).ok) return
    session.loggedIn = true
    signedIn.push(session)
    if (session.end !== 'kept') toEnd[session.end].push(session)
  }

  async function end(how: 'logout' | 'back-channel logout'): Promise<void> {
    const [session] = toEnd[how].splice(randomInt(toEnd[how].length), 1) as [Session]
    session.endTried = true
    const call = how === 'logout' ? () => store.delete(session.id) : () => store.deleteByLogoutToken({ sid: session.state.internal.sid })
    // A logout that failed is tried again later, as a user clicks again and the IdP delivers again.
    if (!(await timed(how, session, call)).ok) {
      toEnd[how].push(session)
      return
    }
    session.endedAt = Date.now()
    // A token refresh that was in flight when the session ended.
    await timed('refresh', session, () => store.set(session.id, session.state))
  }

  async function worker(): Promise<void> {
    const fresh: Session[] = []
    while (!stopped) {
      // 40% logins, 40% reads, 10% each kind of logout: fewer logouts than logins to end, so that some
      // are always waiting, and are tried while the master is down.
      const roll = randomInt(100)
      if (roll >= 40 && roll < 80 && signedIn.length) await read(signedIn[randomInt(signedIn.length)]!, 'read')
      else if (roll >= 80 && roll < 90 && toEnd.logout.length) await end('logout')
      else if (roll >= 90 && toEnd['back-channel logout'].length) await end('back-channel logout')
      else {
        if (fresh.length === 0) fresh.push(...await newSessions(20))
        await login(fresh.shift()!)
      }
    }
  }

  // A worker's failure (the test's own, not a call's) is thrown once the load stops, not left unhandled meanwhile.
  const workers = Promise.all(Array.from({ length: concurrency }, () => worker()))
  workers.catch(() => {})
  try {
    await sleep(warmUpMs)
    const victim = await cluster.masterOf(randomInt(16_384))
    const failedOver = await cluster.slotsOf(victim)
    const killedAt = Date.now()
    await cluster.killMaster(victim)
    const promotion = await cluster.waitForPromotion()
    const onFailedOver = (session: Session) => failedOver.some(([from, to]) => session.slot >= from && session.slot <= to)
    const resumedAt = (kind: CallKind) => {
      const ofKind = calls.filter(call => call.kind === kind && onFailedOver(call.session)).sort((a, b) => a.startedAt - b.startedAt)
      const afterLastFailure = ofKind.slice(ofKind.findLastIndex(call => !call.ok) + 1)
      return afterLastFailure.length ? Math.min(...afterLastFailure.map(call => call.endedAt)) : undefined
    }
    // On until every kind has worked for steadyMs since it resumed, or giveUpMs after the promotion.
    while (Date.now() < promotion.at + giveUpMs) {
      if (CALL_KINDS.every(kind => (resumedAt(kind) ?? Infinity) <= Date.now() - steadyMs)) break
      await sleep(100)
    }
    stopped = true
    await workers

    // What each session holds now, read once the load is over (each read retried until the store answers).
    const checked = signedIn.filter(session => session.endedAt !== undefined || !session.endTried)
    for (let start = 0; start < checked.length; start += 50) {
      await Promise.all(checked.slice(start, start + 50).map(async (session) => {
        while (!await read(session, 'check')) {
          if (Date.now() > promotion.at + giveUpMs * 2) throw new Error(`The store still fails to read ${session.id} ${giveUpMs * 2} ms after the promotion.`)
        }
      }))
    }

    const lost = sessions.filter(session => session.lost)
    return {
      killedToPromotedMs: promotion.at - killedAt,
      resumedMs: Object.fromEntries(CALL_KINDS.map((kind) => {
        const at = resumedAt(kind)
        return [kind, at === undefined ? undefined : at - promotion.at]
      })) as Record<CallKind, number | undefined>,
      calls: calls.length,
      failedCalls: calls.filter(call => !call.ok).length,
      onFailedOverSlots: Object.fromEntries(CALL_KINDS.map((kind) => {
        const ofKind = calls.filter(call => call.kind === kind && onFailedOver(call.session))
        return [kind, { calls: ofKind.length, failed: ofKind.filter(call => !call.ok).length }]
      })) as Record<CallKind, { calls: number, failed: number }>,
      sessions: sessions.length,
      resurrected: sessions.filter(session => session.resurrected).map(session => ({
        id: session.id,
        end: session.end,
        failedOver: onFailedOver(session),
        calls: session.calls.map(call => `${call.what} ${call.startedAt - killedAt}..${call.endedAt - killedAt} ms after the kill: ${call.outcome}`),
      })),
      lostWrites: { failedOver: lost.filter(onFailedOver).map(session => session.id), elsewhere: lost.filter(session => !onFailedOver(session)).map(session => session.id) },
      writesChecked: checked.filter(session => !session.endTried).length,
    }
  }
  finally {
    stopped = true
    await workers.catch(() => {})
  }
}
