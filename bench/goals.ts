// Issue 11's goals, each set against a figure that one section of the bench measures. The sections
// record their figures here as they run; the goals table is made from what this run recorded.
import type { Table } from './table'

interface Goal {
  goal: string
  /** Met when the measured figure is at most this. */
  atMost: number
  unit: 'ratio' | 'ms'
  /** The section that measures it, and in which of its tables. */
  from: string
}

const GOALS = {
  redisGetVsRawGet: { goal: 'Redis get ≤ 1.1× a raw GET (p50)', atMost: 1.1, unit: 'ratio', from: 'operations: redis' },
  redisGetVsConnectRedis: { goal: 'Redis get ≤ 1.0× connect-redis (p50)', atMost: 1.0, unit: 'ratio', from: 'anchors' },
  redisSetVsRawSet: { goal: 'Redis set ≤ 1.35× a raw SET (p50)', atMost: 1.35, unit: 'ratio', from: 'operations: redis' },
  postgresGetVsConnectPgSimple: { goal: 'PostgreSQL get ≤ 1.05× connect-pg-simple (p50)', atMost: 1.05, unit: 'ratio', from: 'anchors' },
  postgresSetVsConnectPgSimple: { goal: 'PostgreSQL set ≤ 1.05× connect-pg-simple (p50)', atMost: 1.05, unit: 'ratio', from: 'anchors' },
  nearCacheHitVsRawGet: { goal: 'Near cache hit ≤ 0.2× a raw GET (p50)', atMost: 0.2, unit: 'ratio', from: 'near-cache' },
  revocationAcrossServersP99: { goal: 'Revocation seen by another app server ≤ 100 ms after the logout returns (p99)', atMost: 100, unit: 'ms', from: 'near-cache' },
} satisfies Record<string, Goal>

export type GoalName = keyof typeof GOALS

/** The figures this run measured for the goals, by goal. */
export class GoalFigures {
  readonly #figures = new Map<GoalName, number>()

  record(name: GoalName, value: number): void {
    this.#figures.set(name, value)
  }

  /** Each goal against this run's figure: met, not met, or not measured in this run. */
  table(): Table {
    const rows = Object.entries(GOALS).map(([name, goal]: [string, Goal]) => {
      const value = this.#figures.get(name as GoalName)
      if (value === undefined) return [goal.goal, 'not measured in this run', '–', goal.from]
      const measured = goal.unit === 'ratio' ? `${value.toFixed(2)}×` : `${value.toFixed(1)} ms`
      return [goal.goal, measured, value <= goal.atMost ? 'yes' : 'no', goal.from]
    })
    return {
      title: 'Issue 11\'s goals against this run\'s figures',
      columns: [{ name: 'goal', unit: 'text' }, { name: 'measured', unit: 'text' }, { name: 'met', unit: 'text' }, { name: 'from the section', unit: 'text' }],
      rows,
      notes: ['Each figure is the one printed in that section\'s table above, measured in this run; a section not run measures nothing here.'],
    }
  }
}
