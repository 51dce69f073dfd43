// Process A of the cross-process revocation bench (bench/near-cache.ts forks it): a second app server that
// holds a session, is told the moment process B's delete or logout returned, and reads the session until
// its own store says it is gone. Times are process.hrtime: CLOCK_MONOTONIC, one clock for every process
// on the machine, so B can subtract its own readings from A's.
import { setImmediate as yieldToIo } from 'node:timers/promises'
import { openStore } from './backends'

export type ToWatcher =
  | { type: 'clock' }
  /** Read the session until this process holds it (in its near cache, when that is on). */
  | { type: 'hold', id: string }
  /** B's call returned: read until the session is gone. */
  | { type: 'ended', id: string }
  | { type: 'close' }

export type FromWatcher =
  | { type: 'clock', at: string }
  /** `cached`: the last read was served by the near cache. */
  | { type: 'held', cached: boolean }
  /** When the first read that found nothing returned (hrtime ns), or null if the session was still there after GIVE_UP_MS. */
  | { type: 'gone', at: string | null, reads: number }
  | { type: 'closed' }

/** The near cache's hard TTL is a few seconds: a session still read after this was never invalidated. */
const GIVE_UP_MS = 10_000
const HOLD_ATTEMPTS = 200

const [namespace = '', settings = '{}'] = process.argv.slice(2)
const store = openStore('redis', namespace, JSON.parse(settings) as Record<string, string>)
const hits = () => store.nearCache?.hits ?? 0

function send(message: FromWatcher) {
  process.send!(message)
}

/**
 * Reads until a read is served from memory: a read that began while a change to the id was on its way
 * (B's own write, say) is not kept, and the cache trusts nothing until its feed is confirmed.
 */
async function hold(id: string): Promise<boolean> {
  for (let attempt = 0; attempt < HOLD_ATTEMPTS; attempt++) {
    const before = hits()
    if (!await store.get(id)) throw new Error(`Process A cannot read session ${id}, which B wrote.`)
    if (!store.nearCache) return false
    if (hits() > before) return true
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  return false
}

async function readUntilGone(id: string): Promise<FromWatcher> {
  const giveUpAt = performance.now() + GIVE_UP_MS
  let reads = 0
  while (performance.now() < giveUpAt) {
    const state = await store.get(id)
    reads += 1
    if (!state) return { type: 'gone', at: String(process.hrtime.bigint()), reads }
    // As a server between requests: let the invalidation that is on its way in be read.
    await yieldToIo()
  }
  return { type: 'gone', at: null, reads }
}

process.on('message', async (message: ToWatcher) => {
  switch (message.type) {
    case 'clock': return send({ type: 'clock', at: String(process.hrtime.bigint()) })
    case 'hold': return send({ type: 'held', cached: await hold(message.id) })
    case 'ended': return send(await readUntilGone(message.id))
    case 'close':
      await store.close()
      send({ type: 'closed' })
      process.disconnect()
  }
})
