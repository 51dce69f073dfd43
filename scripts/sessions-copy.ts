// `npm run sessions:copy -- --from embedded --to redis`: copies the sessions of one store to another,
// so that switching SESSION_STORE signs nobody out. What it copies and the order of a switch: docs/sessions-copy.md.
import { existsSync, readFileSync } from 'node:fs'
import { parseArgs, parseEnv } from 'node:util'
import { BackendGuard } from '../server/session-stores/backend-guard'
import { backends, type BackendName } from '../server/session-stores/backends'
import type { BackendDefinition, SessionBackend } from '../server/session-stores/session-backend'
import { copySessions, type CopyReport } from '../server/session-stores/session-copy'
import { EnvReader, readStoreSettings, SessionStoreConfigError, type Env, type StoreSettings } from '../server/session-stores/session-store-config'

const USAGE = `Usage: npm run sessions:copy -- --from <store> --to <store> [--from-env <file>] [--to-env <file>] [--dry-run] [--batch-size <n>]

Copies the live sessions of one session store to another, with their indexes, their tombstones (ended
sessions) and the ids of logout tokens already used, so that switching SESSION_STORE signs nobody out.
Running it again copies only what is new. docs/sessions-copy.md says in which order to switch.

  --from, --to       ${Object.keys(backends).join(', ')}
  --from-env <file>  settings of the source only (e.g. another REDIS_KEY_PREFIX), over the environment and .env
  --to-env <file>    settings of the target only
  --dry-run          read the source and say what would be copied; write nothing
  --batch-size <n>   entries per round trip (default 500)

Each side's settings are read as the app reads them: the environment, then .env for what it leaves
unset (SESSION_STORE is set by --from and --to). Both sides need the same SESSION_STORE_SECRET (or
NUXT_AUTH0_SESSION_SECRET): sessions are copied sealed, as they are.`

/** Entries between two progress lines on stderr. */
const PROGRESS_EVERY = 1000
/** A copy is one long batch job, not a page view: it waits longer than a request's deadline. */
const MIN_TIMEOUT_MS = 10_000

/** A mistake in the command or the settings: the message says what to change. Exit code 2. */
class UsageError extends Error {}

interface Side {
  role: 'source' | 'target'
  name: string
  backend: SessionBackend
  startHint: string
  secret: string
  settings: unknown
  timeoutMs: number
}

function envFile(path: string): Env {
  try {
    return parseEnv(readFileSync(path, 'utf8'))
  }
  catch (error) {
    throw new UsageError(`Cannot read the settings file ${path}: ${(error as Error).message}`, { cause: error })
  }
}

function openSide(role: Side['role'], name: string | undefined, env: Env): Side {
  const flag = role === 'source' ? '--from' : '--to'
  if (!name) throw new UsageError(`${flag} is missing.\n\n${USAGE}`)
  if (!Object.hasOwn(backends, name)) {
    const cookie = name === 'cookie' ? ' Cookie sessions live in the browsers, not in a store: the app moves each one into the store on its next request (docs/migration.md).' : ''
    throw new UsageError(`${flag} "${name}" is not a session store; use one of: ${Object.keys(backends).join(', ')}.${cookie}`)
  }
  const definition: BackendDefinition<unknown> = backends[name as BackendName]
  // The app's own readers, so that each variable means here what it means to the app.
  const reader = new EnvReader(env)
  let settings: unknown
  let store: StoreSettings
  try {
    settings = definition.settings(reader)
    store = readStoreSettings(reader)
  }
  catch (error) {
    if (error instanceof SessionStoreConfigError) throw new UsageError(`The ${role} (${name}): ${error.message}`, { cause: error })
    throw error
  }
  const limits = { timeoutMs: Math.max(store.timeoutMs, MIN_TIMEOUT_MS), maxSessionsPerUser: store.maxSessionsPerUser }
  return { role, name, backend: definition.create(settings, limits), startHint: definition.startHint, secret: store.secret, settings, timeoutMs: limits.timeoutMs }
}

/** Fails with the store's name, its address (no password) and what to do, when it does not answer in time. */
async function reach(side: Side): Promise<void> {
  try {
    await new BackendGuard(side.timeoutMs).run(() => side.backend.ping())
  }
  catch (error) {
    throw new Error(`Cannot use the ${side.role}, the ${side.name} session store at ${side.backend.location}: ${(error as Error).message}. ${side.startHint}`, { cause: error })
  }
}

function written(report: CopyReport): number {
  return report.sessions.copied + report.tombstones.copied + report.tombstones.ended + report.onceKeys.copied
}

function reportLines(report: CopyReport, dryRun: boolean): string[] {
  const { sessions, tombstones, onceKeys } = report
  const errors = report.unreadable + (report.failure ? 1 : 0)
  const lines = dryRun
    ? [
        `Would copy   ${sessions.copied} sessions, ${tombstones.copied} tombstones, ${onceKeys.copied} logout-token ids, `
        + `${report.accountRecords.copied} activity logs and last-active times (those already in the target are skipped when copying)`,
        `Skipped      ${sessions.expired} sessions expired`,
      ]
    : [
        `Sessions     ${sessions.copied} copied; skipped: ${sessions.present} already in the target, ${sessions.tombstoned} ended in the target, `
        + `${sessions['over-cap']} beyond their user's cap of newer sessions, ${sessions.expired} expired`,
        `Tombstones   ${tombstones.copied + tombstones.ended} copied (${tombstones.ended} of them ended a session an earlier copy had brought); `
        + `skipped: ${tombstones.present} already in the target`,
        `Logout-token ids  ${onceKeys.copied} copied; skipped: ${onceKeys.present} already in the target`,
        `Activity logs and last-active times  ${report.accountRecords.copied} copied; skipped: ${report.accountRecords.present} already in the target`,
      ]
  lines.push(`Errors       ${errors}`)
  if (report.unreadable) {
    lines.push(`  ${report.unreadable} sessions do not open with this secret (sealed under another SESSION_STORE_SECRET, or damaged): not copied.`)
  }
  if (report.failure) lines.push(`  Stopped early: ${report.failure}. Run it again once fixed: what was copied is skipped.`)
  return lines
}

async function main(argv: string[], env: Env): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'from': { type: 'string' },
      'to': { type: 'string' },
      'from-env': { type: 'string' },
      'to-env': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'batch-size': { type: 'string', default: '500' },
      'help': { type: 'boolean', default: false },
    },
  })
  if (values.help) {
    console.log(USAGE)
    return 0
  }
  const batchSize = Number(values['batch-size'])
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new UsageError(`--batch-size must be a whole number from 1 to 10000; got "${values['batch-size']}".`)
  const from = openSide('source', values.from, values['from-env'] ? { ...env, ...envFile(values['from-env']) } : env)
  const to = openSide('target', values.to, values['to-env'] ? { ...env, ...envFile(values['to-env']) } : env)
  try {
    if (from.name === to.name && JSON.stringify(from.settings) === JSON.stringify(to.settings)) {
      throw new UsageError(`--from and --to name the same store (${from.name} at ${from.backend.location}). To copy between two ${from.name} stores, give one side its settings with --from-env or --to-env.`)
    }
    if (from.secret !== to.secret) {
      throw new UsageError('The source and the target have different SESSION_STORE_SECRETs (from --from-env / --to-env): the sessions are copied sealed, so the target '
        + 'must use the secret they were sealed with. Give both sides the same secret.')
    }
    await reach(from)
    await reach(to)
    const dryRun = values['dry-run']
    console.error(`[sessions:copy] ${dryRun ? 'dry run: reading' : 'copying'} ${from.name} at ${from.backend.location} → ${to.name} at ${to.backend.location}`)
    let reported = 0
    const started = Date.now()
    const report = await copySessions(from.backend, to.backend, {
      secret: from.secret,
      batchSize,
      dryRun,
      onProgress: (progress, read) => {
        if (read - reported < PROGRESS_EVERY) return
        reported = read
        console.error(`[sessions:copy] ${read} entries read${dryRun ? '' : `, ${written(progress)} written`}`)
      },
    })
    console.error(`[sessions:copy] done in ${((Date.now() - started) / 1000).toFixed(1)} s`)
    console.log(reportLines(report, dryRun).join('\n'))
    console.log('Not copied: rate-limit counters (they start from zero in the target).')
    console.log('After the switch, the app must keep the same SESSION_STORE_SECRET (or, where it is unset, NUXT_AUTH0_SESSION_SECRET) '
      + 'and the same NUXT_AUTH0_SESSION_SECRET: the sessions were copied sealed with the first, and the browsers\' cookies are sealed with the second.')
    return report.unreadable || report.failure ? 1 : 0
  }
  finally {
    await Promise.allSettled([from.backend.close(), to.backend.close()])
  }
}

/** The app's view of the environment: what is set wins over .env, as in `nuxt dev`. */
function environment(): Env {
  const dotEnv = existsSync('.env') ? parseEnv(readFileSync('.env', 'utf8')) : {}
  return { ...dotEnv, ...process.env }
}

try {
  process.exitCode = await main(process.argv.slice(2), environment())
}
catch (error) {
  console.error(`[sessions:copy] ${(error as Error).message}`)
  process.exitCode = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? 2 : 1
}
