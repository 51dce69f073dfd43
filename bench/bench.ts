// Runs the sections named on the command line (operations, anchors, scaling, requests, faults, near-cache, against),
// or all of them but `against`, which needs BENCH_BASELINE (bench/against.ts).
import { cpus, loadavg } from 'node:os'
import { mkdir, writeFile } from 'node:fs/promises'
import { against } from './against'
import { anchors } from './anchors'
import { faults } from './faults'
import { GoalFigures } from './goals'
import { nearCache } from './near-cache'
import { STORE_KINDS, unreachable, type StoreKind } from './backends'
import { requestsAndMemory } from './requests'
import { scaling } from './scaling'
import { storeOperations } from './store-operations'
import { formatTable, type Table } from './table'

interface Section {
  name: string
  title: string
  /** Returns its tables; records what it measured for issue 11's goals in `goals`. */
  run: (kinds: StoreKind[], goals: GoalFigures) => Promise<Table[]>
  /** Left out of a run that names no section. */
  onlyWhenNamed?: boolean
}

const SECTIONS: Section[] = [
  { name: 'operations', title: '1. Store operations', run: storeOperations },
  { name: 'anchors', title: '2. Anchors: the usual express-session stores', run: anchors },
  { name: 'scaling', title: '3. Scaling with the number of stored sessions', run: scaling },
  { name: 'requests', title: '4. Whole requests, and 5. memory', run: requestsAndMemory },
  { name: 'faults', title: '6. Outage drill: a frozen, then killed database under load', run: faults },
  { name: 'near-cache', title: '7. The Redis near cache: reads, and revocation seen by another process', run: nearCache },
  { name: 'against', title: '8. This build against an earlier one (BENCH_BASELINE)', run: against, onlyWhenNamed: true },
]

const wanted = process.argv.slice(2)
const unknown = wanted.filter(name => !SECTIONS.some(section => section.name === name))
if (unknown.length) throw new Error(`Unknown bench section ${unknown.join(', ')}; the sections are: ${SECTIONS.map(section => section.name).join(', ')}.`)

const started = performance.now()
const date = new Date()
// The load average says whether something else ran meanwhile: every figure is only as quiet as the machine.
const machine = { date: date.toISOString(), node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, loadAverageAtStart: loadavg()[0]! }
const header = `Run ${machine.date} on ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; load average ${machine.loadAverageAtStart.toFixed(1)} at start.`
console.log(header)

const kinds: StoreKind[] = []
const skipped: string[] = []
for (const kind of STORE_KINDS) {
  const reason = await unreachable(kind)
  if (reason) skipped.push(`${kind} skipped: ${reason}`)
  else kinds.push(kind)
}
for (const line of skipped) console.log(line)

const results: { title: string, tables: Table[] }[] = []
const printed: string[] = [header, ...skipped.map(line => `${line}.`)]
/** Prints the section's heading before it runs, so that a long run shows where it is. */
function heading(title: string) {
  console.log(`\n### ${title}\n`)
  printed.push(`\n### ${title}\n`)
}

function show(title: string, tables: Table[]) {
  for (const table of tables) {
    const text = formatTable(table)
    console.log(`${text}\n`)
    printed.push(`${text}\n`)
  }
  results.push({ title, tables })
}

const goals = new GoalFigures()
for (const section of SECTIONS.filter(section => wanted.length ? wanted.includes(section.name) : !section.onlyWhenNamed)) {
  heading(section.title)
  const sectionStarted = performance.now()
  show(section.title, await section.run(kinds, goals))
  console.log(`(${section.name}: ${((performance.now() - sectionStarted) / 1000).toFixed(0)} s)`)
}
heading('Goals (issue 11)')
show('Goals (issue 11)', [goals.table()])

const totalSeconds = (performance.now() - started) / 1000
const loadAverageAtEnd = loadavg()[0]!
const footer = `Total run time: ${totalSeconds.toFixed(0)} s; load average ${loadAverageAtEnd.toFixed(1)} at the end.`
console.log(`\n${footer}`)
printed.push(footer)

const directory = new URL('results/', import.meta.url)
await mkdir(directory, { recursive: true })
const file = new URL(`${date.toISOString().replaceAll(':', '-').slice(0, 19)}.json`, directory)
await writeFile(file, `${JSON.stringify({ ...machine, loadAverageAtEnd, totalSeconds, skipped, sections: results }, null, 2)}\n`)
// Only a complete run replaces the example the README points to.
if (!wanted.length) await writeFile(new URL('latest.md', directory), `${printed.join('\n')}\n`)
console.log(`Figures written to bench/results/${file.pathname.split('/').pop()}`)
