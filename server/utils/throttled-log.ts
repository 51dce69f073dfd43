// Enough for every reason one outage can give; the line written longest ago makes room for a new one.
const MAX_LINES = 100

/**
 * A logger that writes each distinct line at most once per `intervalMs`, then says how many times
 * it held the line back: an outage that fails every request stays one readable line in the log.
 */
export function throttledLog(intervalMs: number, write: (line: string) => void = console.error): (line: string) => void {
  const lines = new Map<string, { writtenAt: number, heldBack: number }>()
  return (line) => {
    const now = Date.now()
    const last = lines.get(line)
    if (last && now - last.writtenAt < intervalMs) {
      last.heldBack++
      return
    }
    lines.delete(line)
    if (lines.size >= MAX_LINES) lines.delete(lines.keys().next().value!)
    lines.set(line, { writtenAt: now, heldBack: 0 })
    write(last?.heldBack ? `${line} (${last.heldBack} more times since it was last logged)` : line)
  }
}
