import type { EncryptedSessionStore } from '../server/session-stores/encrypted-session-store'
import { dropNamespace, openStore, type StoreKind } from './backends'
import { compareLatency, inParallel, type Operation, type Rounds } from './measure'
import { logoutClaims, newSampleSession, type SampleSession } from './sample-sessions'
import type { Table } from './table'

const BASE = 1_000
const SIZES: Record<StoreKind, number[]> = {
  // The embedded store is for development: one process, one file per session.
  embedded: [10_000],
  redis: [10_000, 100_000, 1_000_000],
  postgres: [10_000, 100_000],
  mongodb: [10_000, 100_000],
}
const PLAN: Record<StoreKind, Rounds> = {
  embedded: { rounds: 6, perRound: 30, warmup: 20 },
  redis: { rounds: 6, perRound: 150, warmup: 100 },
  postgres: { rounds: 6, perRound: 30, warmup: 20 },
  mongodb: { rounds: 6, perRound: 50, warmup: 30 },
}
// A fill that would take longer than this is skipped (and said so), to keep the run under 10 minutes.
const FILL_BUDGET_SECONDS = 120
const FILL_IN_FLIGHT = 64

/** A store and the sessions the bench wrote to it, so that it can read and log out any of them. */
class FilledStore {
  readonly sessions: SampleSession[] = []
  constructor(readonly store: EncryptedSessionStore) {}

  /** Writes through the store's own `set`, so every record is exactly what the app would write. */
  async fillTo(count: number): Promise<number> {
    const started = performance.now()
    const missing = count - this.sessions.length
    await inParallel(missing, FILL_IN_FLIGHT, async () => {
      const session = newSampleSession()
      await this.store.set(session.id, session.state)
      this.sessions.push(session)
    })
    return missing / ((performance.now() - started) / 1000)
  }

  #any(): number {
    return Math.floor(Math.random() * this.sessions.length)
  }

  get(): Operation {
    let session = this.sessions[0]!
    return { prepare: async () => { session = this.sessions[this.#any()]! }, run: () => this.store.get(session.id) }
  }

  /** Logs out one session by its sid, checks it is gone, and puts a new one in its place. */
  logout(): Operation {
    let index = 0
    return {
      prepare: async () => { index = this.#any() },
      run: () => this.store.deleteByLogoutToken(logoutClaims(this.sessions[index]!)),
      verify: async () => {
        const ended = this.sessions[index]!
        if (await this.store.get(ended.id)) throw new Error(`deleteByLogoutToken left session ${ended.id} in place.`)
        const replacement = newSampleSession()
        await this.store.set(replacement.id, replacement.state)
        this.sessions[index] = replacement
      },
    }
  }
}

async function scaleStore(kind: StoreKind): Promise<{ rows: Table['rows'], notes: string[] }> {
  // Two namespaces side by side, so that each size is measured in rounds alternating with 1 000.
  const base = new FilledStore(openStore(kind, 'scale_base'))
  const large = new FilledStore(openStore(kind, 'scale_large'))
  const rows: Table['rows'] = []
  const notes: string[] = []
  try {
    await base.fillTo(BASE)
    let rate = await large.fillTo(BASE)
    for (const size of SIZES[kind]) {
      const seconds = (size - large.sessions.length) / rate
      if (seconds > FILL_BUDGET_SECONDS) {
        notes.push(`${kind}: ${size.toLocaleString('en-US')} skipped: filling it would take about ${seconds.toFixed(0)} s at ${rate.toFixed(0)} sets/s.`)
        break
      }
      rate = await large.fillTo(size)
      const get = await compareLatency({ base: base.get(), large: large.get() }, PLAN[kind])
      const logout = await compareLatency({ base: base.logout(), large: large.logout() }, PLAN[kind])
      rows.push([kind, size, get.base.p50, get.large.p50, get.large.p50 / get.base.p50, logout.base.p50, logout.large.p50, logout.large.p50 / logout.base.p50])
      notes.push(`${kind}: filled to ${size.toLocaleString('en-US')} at ${rate.toFixed(0)} sets/s (${FILL_IN_FLIGHT} in flight).`)
    }
    return { rows, notes }
  }
  finally {
    await base.store.close()
    await large.store.close()
    await dropNamespace(kind, 'scale_base')
    await dropNamespace(kind, 'scale_large')
  }
}

export async function scaling(kinds: StoreKind[]): Promise<Table[]> {
  const rows: Table['rows'] = []
  const notes: string[] = []
  for (const kind of kinds) {
    const result = await scaleStore(kind)
    rows.push(...result.rows)
    notes.push(...result.notes)
  }
  return [{
    title: 'get and deleteByLogoutToken as the number of stored sessions grows',
    columns: [
      { name: 'store', unit: 'text' }, { name: 'sessions', unit: 'count' },
      { name: 'get p50 µs at 1 000', unit: 'µs' }, { name: 'get p50 µs', unit: 'µs' }, { name: 'get ratio', unit: 'ratio' },
      { name: 'logout p50 µs at 1 000', unit: 'µs' }, { name: 'logout p50 µs', unit: 'µs' }, { name: 'logout ratio', unit: 'ratio' },
    ],
    rows,
    notes: [
      'logout: deleteByLogoutToken. Each size is a second namespace measured in rounds alternating with one holding 1 000 sessions; ratio = p50 at that size / p50 at 1 000. '
      + 'Sessions are newStateData() written with the store\'s own set, each with its own user and sid. Each timed deleteByLogoutToken({ iss, sub, sid }) ends one '
      + 'random session, checked gone, then replaced (untimed), so the count stays put.',
      ...notes,
    ],
  }]
}
