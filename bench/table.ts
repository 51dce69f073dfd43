/** How a column's numbers are printed; the JSON keeps them unrounded. */
export type Unit = 'text' | 'µs' | 'ms' | 'ops/s' | 'ratio' | 'bytes' | 'MB' | 'count'

export interface Column {
  name: string
  unit: Unit
}

export type Cell = string | number | null

export interface Table {
  title: string
  columns: Column[]
  rows: Cell[][]
  /** Lines printed under the table: what was measured, and why a figure is what it is. */
  notes: string[]
}

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

function format(cell: Cell, unit: Unit): string {
  if (cell === null) return '–'
  if (typeof cell === 'string') return cell
  switch (unit) {
    case 'µs': return cell < 100 ? cell.toFixed(1) : grouped.format(cell)
    case 'ms': return cell.toFixed(cell < 10 ? 2 : 1)
    case 'ratio': return `${cell.toFixed(2)}×`
    case 'MB': return (cell / 1024 / 1024).toFixed(1)
    default: return grouped.format(cell)
  }
}

/** A Markdown table, padded so that it also reads well in a terminal. */
export function formatTable(table: Table): string {
  const text = table.rows.map(row => row.map((cell, i) => format(cell, table.columns[i]!.unit)))
  const headers = table.columns.map(column => column.name)
  const widths = headers.map((header, i) => Math.max(header.length, ...text.map(row => row[i]!.length)))
  const line = (cells: string[]) => `| ${cells.map((cell, i) => table.columns[i]!.unit === 'text' ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)).join(' | ')} |`
  const rule = `|${widths.map((width, i) => table.columns[i]!.unit === 'text' ? `${'-'.repeat(width + 1)}-` : `${'-'.repeat(width + 1)}:`).join('|')}|`
  return [`#### ${table.title}`, '', line(headers), rule, ...text.map(line), '', ...table.notes.map(note => `${note}  `)].join('\n').trimEnd()
}
