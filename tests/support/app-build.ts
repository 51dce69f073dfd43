// The production build (.output/) that the route tests (Vitest) and the stories (Playwright) run:
// built once per change of the sources, whichever runs first, so `npm test` builds once.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

/** What `nuxt build` reads: the app's folders and files, its config, and the installed packages (by their lock file). */
const BUILD_INPUTS = ['app.vue', 'error.vue', 'nuxt.config.ts', 'tsconfig.json', 'package-lock.json', 'assets', 'components', 'composables',
  'middleware', 'pages', 'public', 'server', 'utils', 'scripts/dev-server-address.mjs']

const STAMP = join(repoRoot, '.output/.sources-sha256')

function filesUnder(path: string): string[] {
  const full = join(repoRoot, path)
  if (!existsSync(full)) return []
  try {
    return readdirSync(full, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))
      .flatMap(entry => filesUnder(join(path, entry.name)))
  }
  catch {
    return [path]
  }
}

/** One hash of every build input's path and bytes. */
function sourcesHash(): string {
  const hash = createHash('sha256')
  for (const file of BUILD_INPUTS.flatMap(filesUnder)) hash.update(file).update('\0').update(readFileSync(join(repoRoot, file))).update('\0')
  return hash.digest('hex')
}

/**
 * Builds the app unless .output/ already holds a build of these sources (or E2E_SKIP_BUILD=1 says to
 * use whatever is there). `log` gets one line saying which.
 */
export async function ensureAppBuild(logPath: string, log: (line: string) => void = console.log): Promise<void> {
  if (process.env.E2E_SKIP_BUILD === '1') {
    log('[build] E2E_SKIP_BUILD=1: testing the existing build in .output/')
    return
  }
  const hash = sourcesHash()
  if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === hash) {
    log('[build] .output/ holds a build of the current sources')
    return
  }
  log(`[build] building the app (nuxt build, ~40 s; log: ${logPath})`)
  mkdirSync(dirname(logPath), { recursive: true })
  const out = createWriteStream(logPath)
  const child = spawn(process.execPath, ['node_modules/nuxt/bin/nuxt.mjs', 'build'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout.pipe(out)
  child.stderr.pipe(out)
  const code = await new Promise<number | null>(done => child.once('exit', done))
  if (code !== 0) {
    const text = await readFile(logPath, 'utf8')
    throw new Error(`nuxt build failed (exit code ${code}). The end of ${logPath}:\n${text.split('\n').slice(-40).join('\n')}`)
  }
  writeFileSync(STAMP, hash)
}
