import { expect, it } from 'vitest'
import { postgresSchema } from '~/server/session-stores/backends/postgres-schema'

// After changing postgres-schema.ts, update the file with: npx vitest run --project unit -u
it('postgres-schema.sql, for migration tools, is the schema the store creates itself', async () => {
  await expect(postgresSchema('auth0_sessions')).toMatchFileSnapshot('../../server/session-stores/backends/postgres-schema.sql')
})
