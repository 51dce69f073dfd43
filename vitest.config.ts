import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const root = fileURLToPath(new URL('.', import.meta.url))

/** The same store tests run once per backend, each against a real server, in its own namespace. */
const storeEnv: Record<string, Record<string, string>> = {
  embedded: { EMBEDDED_STORE_DIR: '.data/test-sessions' },
  redis: { REDIS_URL: process.env.REDIS_URL ?? 'redis://localhost:6379', REDIS_KEY_PREFIX: 'auth0-test:' },
  postgres: {
    DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres:postgres@localhost:5432/auth0_sessions',
    POSTGRES_SESSION_TABLE: 'auth0_sessions_test',
  },
  mongodb: { MONGODB_URI: process.env.MONGODB_URI ?? '', MONGODB_COLLECTION: 'sessions_test' },
}

export default defineConfig({
  resolve: { alias: { '~': root } },
  test: {
    projects: [
      { extends: true, test: { name: 'unit', include: ['tests/unit/**/*.test.ts'] } },
      ...Object.entries(storeEnv).map(([store, env]) => ({
        extends: true as const,
        test: {
          name: store,
          // No MongoDB server here: its project runs one test that says so, reported as skipped.
          include: store === 'mongodb' && !env.MONGODB_URI ? ['tests/support/mongodb-skipped.test.ts'] : ['tests/stores/**/*.test.ts'],
          env: { SESSION_STORE: store, SESSION_STORE_SECRET: 'a-test-only-secret-of-at-least-32-characters', ...env },
          testTimeout: 20_000,
        },
      })),
    ],
  },
})
