import { isAccountRecord } from './activity'
import type { ExportedEntry, ImportOutcome, SessionBackend } from './session-backend'
import { SessionCrypto } from './session-crypto'
import { nowInSeconds } from './session-expiry'

/** How many entries of one kind had each ImportOutcome; a dry run counts what it would copy as `copied`. */
export type Tally = Record<ImportOutcome, number>

/** What one run of `sessions:copy` did. */
export interface CopyReport {
  sessions: Tally & { expired: number }
  tombstones: Tally
  onceKeys: Tally
  /** Users' activity logs and sessions' last-active times (server/session-stores/activity.ts), copied like sessions. */
  accountRecords: Tally
  /** Sessions the secret does not open: sealed under another SESSION_STORE_SECRET, or damaged. Not copied. */
  unreadable: number
  /** Why the copy stopped early (the source or the target failed), if it did. */
  failure?: string
}

export interface CopyOptions {
  /** SESSION_STORE_SECRET (or NUXT_AUTH0_SESSION_SECRET), the same on both sides: each session is checked to open with it. */
  secret: string
  /** Entries read and written per round trip. */
  batchSize?: number
  /** Reads the source and counts; writes nothing. */
  dryRun?: boolean
  /** Called after each batch with the running totals. */
  onProgress?: (report: CopyReport, entriesRead: number) => void
}

const emptyTally = (): Tally => ({ 'copied': 0, 'ended': 0, 'present': 0, 'tombstoned': 0, 'over-cap': 0 })

function emptyReport(): CopyReport {
  return { sessions: { ...emptyTally(), expired: 0 }, tombstones: emptyTally(), onceKeys: emptyTally(), accountRecords: emptyTally(), unreadable: 0 }
}

const TALLY_OF = { session: 'sessions', tombstone: 'tombstones', once: 'onceKeys' } as const

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error))

/**
 * Copies every live session (sealed payload, expiry, index keys, createdAt), tombstone and logout-token
 * jti from one backend to another, byte for byte: both sides must use the same secret. Safe to run again
 * and while the app runs on the target: ids already there are skipped, tombstones always win
 * (docs/sessions-copy.md). A failing backend stops the copy; what was copied stays, and a second run
 * copies the rest.
 */
export async function copySessions(from: SessionBackend, to: SessionBackend, options: CopyOptions): Promise<CopyReport> {
  const crypto = new SessionCrypto(options.secret)
  const report = emptyReport()
  const batches = from.exportAll(options.batchSize ?? 500)[Symbol.asyncIterator]()
  let entriesRead = 0
  for (;;) {
    let next: IteratorResult<ExportedEntry[]>
    try {
      next = await batches.next()
    }
    catch (error) {
      report.failure = `reading the source at ${from.location} failed: ${messageOf(error)}`
      return report
    }
    if (next.done) return report
    entriesRead += next.value.length
    const now = nowInSeconds()
    const copyable = next.value.filter((entry) => {
      if (entry.kind !== 'session') return true
      if (entry.expiresAt <= now) {
        if (!isAccountRecord(entry.id)) report.sessions.expired++
        return false
      }
      // A payload the target's app could not open would sign its user out all the same.
      if (crypto.open(entry.id, entry.sealed) === undefined) {
        report.unreadable++
        return false
      }
      return true
    })
    let outcomes: ImportOutcome[]
    try {
      outcomes = options.dryRun ? copyable.map(() => 'copied') : await to.importEntries(copyable)
    }
    catch (error) {
      report.failure = `writing to the target at ${to.location} failed: ${messageOf(error)}`
      await batches.return?.()
      return report
    }
    copyable.forEach((entry, index) => {
      const tally = entry.kind === 'session' && isAccountRecord(entry.id) ? report.accountRecords : report[TALLY_OF[entry.kind]]
      tally[outcomes[index]!]++
    })
    options.onProgress?.(report, entriesRead)
  }
}
