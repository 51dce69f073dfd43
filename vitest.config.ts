import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const root = fileURLToPath(new URL('.', import.meta.url))

// One project per backend test file (tests/stores/<backend>.test.ts), so `--project=redis` runs one store.
const storeTestFiles = readdirSync(new URL('tests/stores/', import.meta.url)).filter(file => file.endsWith('.test.ts'))

export default defineConfig({
  resolve: { alias: { '~': root } },
  test: {
    projects: [
      { extends: true, test: { name: 'unit', include: ['tests/unit/**/*.test.ts'] } },
      ...storeTestFiles.map(file => ({
        extends: true as const,
        test: { name: file.replace('.test.ts', ''), include: [`tests/stores/${file}`], testTimeout: 20_000, hookTimeout: 30_000 },
      })),
    ],
  },
})
