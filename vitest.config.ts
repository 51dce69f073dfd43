import { readdirSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { defineVitestProject } from '@nuxt/test-utils/config'
import { defineConfig } from 'vitest/config'

const root = fileURLToPath(new URL('.', import.meta.url))

// One project per backend test file (tests/stores/<backend>.test.ts), so `--project=redis` runs one store.
const storeTestFiles = readdirSync(new URL('tests/stores/', import.meta.url)).filter(file => file.endsWith('.test.ts'))

export default defineConfig({
  resolve: { alias: { '~': root } },
  test: {
    // The store and route tests mostly wait on servers: 3 workers on 2 cores take 39 s, Vitest's
    // default there (one worker, cores - 1) 59 s.
    maxWorkers: Math.max(3, availableParallelism()),
    projects: [
      { extends: true, test: { name: 'unit', include: ['tests/unit/**/*.test.ts'] } },
      // The built server over HTTP (@nuxt/test-utils/e2e); its global setup builds the app when the sources changed.
      {
        extends: true,
        test: { name: 'routes', include: ['tests/routes/**/*.test.ts'], globalSetup: ['tests/routes/global-setup.ts'], testTimeout: 30_000, hookTimeout: 120_000 },
      },
      // Pages and components in the Nuxt test environment (@nuxt/test-utils): mounted with the app's plugins and auto-imports.
      await defineVitestProject({ test: { name: 'components', include: ['tests/components/**/*.test.ts'], environment: 'nuxt' } }),
      ...storeTestFiles.map(file => ({
        extends: true as const,
        test: { name: file.replace('.test.ts', ''), include: [`tests/stores/${file}`], testTimeout: 20_000, hookTimeout: 30_000 },
      })),
    ],
  },
})
