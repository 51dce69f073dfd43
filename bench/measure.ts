/** One timed operation; `prepare` and `verify` run before and after it, untimed. */
export interface Operation {
  prepare?: () => Promise<unknown>
  run: () => Promise<unknown>
  verify?: () => Promise<unknown>
}

export interface Latency {
  /** Microseconds. */
  p50: number
  p99: number
  /** Sequential: one operation in flight. */
  opsPerSecond: number
}

export interface Rounds {
  rounds: number
  perRound: number
  warmup: number
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!
}

/** Forward in even rounds and backward in odd ones, so that neither side always runs first. */
function orderOf<T>(items: T[], round: number): T[] {
  return round % 2 === 0 ? items : [...items].reverse()
}

/**
 * Latency of each operation, one in flight, measured in alternating rounds after a warm-up, so
 * that a ratio between them is not skewed by whatever else the machine did meanwhile.
 */
export async function compareLatency<K extends string>(operations: Record<K, Operation>, plan: Rounds): Promise<Record<K, Latency>> {
  const names = Object.keys(operations) as K[]
  const samples = Object.fromEntries(names.map(name => [name, [] as number[]])) as Record<K, number[]>
  for (let round = -1; round < plan.rounds; round++) {
    for (const name of orderOf(names, round)) {
      const operation = operations[name]
      for (let i = 0; i < (round < 0 ? plan.warmup : plan.perRound); i++) {
        await operation.prepare?.()
        const started = performance.now()
        await operation.run()
        const micros = (performance.now() - started) * 1000
        await operation.verify?.()
        if (round >= 0) samples[name].push(micros)
      }
    }
  }
  return Object.fromEntries(names.map((name) => {
    const sorted = samples[name].sort((a, b) => a - b)
    const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length
    return [name, { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), opsPerSecond: 1e6 / mean }]
  })) as Record<K, Latency>
}

/** Operations per second with `concurrency` in flight, in alternating rounds after a warm-up. */
export async function compareThroughput<K extends string>(operations: Record<K, () => Promise<unknown>>, concurrency: number, plan: Rounds): Promise<Record<K, number>> {
  const names = Object.keys(operations) as K[]
  const totals = Object.fromEntries(names.map(name => [name, { count: 0, seconds: 0 }])) as Record<K, { count: number, seconds: number }>
  for (let round = -1; round < plan.rounds; round++) {
    for (const name of orderOf(names, round)) {
      const count = round < 0 ? plan.warmup : plan.perRound
      let started = 0
      const begun = performance.now()
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (started++ < count) await operations[name]()
      }))
      if (round >= 0) {
        totals[name].count += count
        totals[name].seconds += (performance.now() - begun) / 1000
      }
    }
  }
  return Object.fromEntries(names.map(name => [name, totals[name].count / totals[name].seconds])) as Record<K, number>
}

/** Runs `task` for each index in 0..count-1 with `concurrency` in flight. */
export async function inParallel(count: number, concurrency: number, task: (index: number) => Promise<unknown>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) await task(next++)
  }))
}
