// Where tests keep their data: a namespace of each run's own (a key prefix, a table, a folder, a
// collection), deleted when the run ends. Its name carries the time it was made, so that a later run
// can tell what a crashed run left (older than any run lasts) from the data of a run still going.
import { randomBytes } from 'node:crypto'
import { readSessionStoreConfig } from '~/server/session-stores/backends'
import { redisKeysUnder } from './raw-backends'

/** Longer than any test run takes, even on a loaded machine: an older namespace's run is over. */
const STALE_AFTER_MS = 60 * 60 * 1000
// `t`, the time in ms in base 36 (8 characters until the year 2059), 6 random hex digits.
const NAMESPACE = /^t([0-9a-z]{8})[0-9a-f]{6}$/

/** A new namespace: lower-case letters and digits only, so that it fits a key prefix, a SQL name and a file name. */
export function newNamespace(): string {
  return `t${Date.now().toString(36).padStart(8, '0')}${randomBytes(3).toString('hex')}`
}

/** Those of `namespaces` made by this function over an hour ago: a crashed run's, whose data nobody uses. */
export function staleNamespaces(namespaces: string[], now = Date.now()): string[] {
  return [...new Set(namespaces)].filter((namespace) => {
    const madeAt = NAMESPACE.exec(namespace)?.[1]
    return madeAt !== undefined && parseInt(madeAt, 36) < now - STALE_AFTER_MS
  })
}

/** Deletes everything a store wrote under these settings (SESSION_STORE and its prefix, table, folder or collection). */
export async function dropStoreData(env: Record<string, string>): Promise<void> {
  const config = readSessionStoreConfig(env)
  if (config.kind === 'cookie') return
  const backend = config.backend.create(config.backendSettings, config.store)
  try {
    await backend.drop()
  }
  finally {
    await backend.close()
  }
}

/** The namespaces that keys under `prefix` belong to, in the Redis these settings name (every master of a Cluster). */
export async function namespacesInRedis(env: Record<string, string>, prefix: string): Promise<string[]> {
  const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`
  return (await redisKeysUnder(env, match)).map(key => key.slice(prefix.length).split(':')[0]!)
}
