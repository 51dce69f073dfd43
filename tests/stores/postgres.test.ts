import { describe, expect, it } from 'vitest'
import pg from 'pg'
import type { EncryptedSessionStore } from '~/server/session-stores/encrypted-session-store'
import { createSessionStore } from '~/server/utils/session-store-factory'
import { startPostgresServer } from '../support/disposable-servers'
import { issuedAt } from '../support/logout-token-options'
import { newPerson, newSessionId, newStateData } from '../support/state-data'
import { newNamespace } from '../support/test-namespaces'
import { TEST_SECRET, testSessionStore } from './session-store-contract'

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres:postgres@localhost:5432/auth0_sessions'
const PREFIX = 'auth0_test_'
const tableFor = (namespace: string) => `${PREFIX}${namespace}`

/** The namespaces of the tables named PREFIX<namespace>[_...], in any schema. */
async function namespacesHeld(): Promise<string[]> {
  const client = new pg.Client({ connectionString: DATABASE_URL })
  await client.connect()
  try {
    const { rows } = await client.query<{ name: string }>('SELECT tablename AS name FROM pg_tables WHERE starts_with(tablename, $1)', [PREFIX])
    return rows.map(row => row.name.slice(PREFIX.length).split('_')[0]!)
  }
  finally {
    await client.end()
  }
}

testSessionStore({
  name: 'postgres',
  env: namespace => ({ DATABASE_URL, POSTGRES_SESSION_TABLE: tableFor(namespace) }),
  namespacesHeld,
  unreachable: { env: { DATABASE_URL: 'postgres://postgres:hunter2@localhost:1/auth0_sessions' }, address: 'localhost:1' },
  disposable: { start: () => startPostgresServer(), env: server => ({ DATABASE_URL: server.url }) },
})

/** Turns a table of today's schema back into the schema before tombstones, as an older release left it. */
function oldSchema(table: string): string {
  return `ALTER TABLE ${table} ALTER COLUMN payload SET NOT NULL;
    UPDATE ${table} SET created_at = created_at / 1000;
    DROP INDEX ${table}_sub_key_created_at_idx;
    CREATE INDEX ${table}_sub_key_idx ON ${table} (sub_key);
    CREATE TABLE ${table}_revocations (key text PRIMARY KEY, revoked_at bigint NOT NULL, expires_at timestamptz NOT NULL);
    CREATE FUNCTION ${table}_write(text, bytea, bigint, bigint, text[], text, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
    CREATE FUNCTION ${table}_remove(text, bigint, bigint) RETURNS void LANGUAGE sql AS '';
    CREATE FUNCTION ${table}_revoke(text, text, text, text, bigint, bigint) RETURNS integer LANGUAGE sql AS 'SELECT 0';`
}

describe('a sessions table of the schema before tombstones', () => {
  it('is migrated on first use: its users stay signed in, and logouts end their sessions for good', async () => {
    const table = tableFor(newNamespace())
    const env = { SESSION_STORE: 'postgres', SESSION_STORE_SECRET: TEST_SECRET, DATABASE_URL, POSTGRES_SESSION_TABLE: table }
    const pool = new pg.Pool({ connectionString: DATABASE_URL })
    const person = newPerson()
    const [first, second] = [newSessionId(), newSessionId()]
    const [firstState, secondState] = [newStateData({ person }), newStateData({ person })]
    try {
      const before = createSessionStore(env) as EncryptedSessionStore
      await before.set(first, firstState)
      await before.set(second, secondState)
      await before.close()
      await pool.query(oldSchema(table))

      const upgraded = createSessionStore(env) as EncryptedSessionStore
      try {
        expect(await upgraded.get(first)).toEqual(firstState)
        expect((await upgraded.sessionsOf(person.sub)).map(session => session.id).sort()).toEqual([first, second].sort())
        // Their creation times are now in milliseconds: a token issued a minute ago did not mean them.
        await upgraded.deleteByLogoutToken({ sub: person.sub }, issuedAt(Math.floor(Date.now() / 1000) - 60))
        expect(await upgraded.get(second)).toEqual(secondState)

        await upgraded.delete(first)
        await upgraded.deleteByLogoutToken({ sid: secondState.internal.sid })
        await upgraded.set(first, firstState)
        await upgraded.set(second, secondState)
        expect(await upgraded.get(first)).toBeUndefined()
        expect(await upgraded.get(second)).toBeUndefined()
      }
      finally {
        await upgraded.close()
      }
      const { rows } = await pool.query(`SELECT to_regclass($1) AS revocations, to_regclass($2) AS old_index,
        (SELECT count(*)::int FROM pg_proc WHERE proname LIKE $3) AS functions`, [`${table}_revocations`, `${table}_sub_key_idx`, `${table}\\_%`])
      expect(rows[0]).toEqual({ revocations: null, old_index: null, functions: 0 })
    }
    finally {
      await pool.query(`DROP TABLE IF EXISTS ${table}, ${table}_rate_limits, ${table}_revocations;
        DROP FUNCTION IF EXISTS ${table}_write, ${table}_remove, ${table}_revoke`)
      await pool.end()
    }
  })
})

describe('a sessions table of the release before payloads were kept in the row', () => {
  it('is upgraded on first use: its sessions open, and each moves out of the TOAST table at its next write', async () => {
    const table = tableFor(newNamespace())
    const env = { SESSION_STORE: 'postgres', SESSION_STORE_SECRET: TEST_SECRET, DATABASE_URL, POSTGRES_SESSION_TABLE: table }
    const pool = new pg.Pool({ connectionString: DATABASE_URL })
    const id = newSessionId()
    const state = newStateData()
    const toastedChunks = async () => {
      const { rows } = await pool.query<{ toast: string }>('SELECT reltoastrelid::regclass::text AS toast FROM pg_class WHERE oid = $1::regclass', [table])
      return (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${rows[0]!.toast}`)).rows[0]!.n
    }
    try {
      const before = createSessionStore(env) as EncryptedSessionStore
      await before.ping()
      await pool.query(`ALTER TABLE ${table} RESET (toast_tuple_target)`)
      await before.set(id, state)
      await before.close()
      expect(await toastedChunks()).toBeGreaterThan(0)

      const upgraded = createSessionStore(env) as EncryptedSessionStore
      try {
        expect(await upgraded.get(id)).toEqual(state)
        await upgraded.set(id, state)
        expect(await upgraded.get(id)).toEqual(state)
        expect(await toastedChunks()).toBe(0)
      }
      finally {
        await upgraded.close()
      }
    }
    finally {
      await pool.query(`DROP TABLE IF EXISTS ${table}, ${table}_rate_limits`)
      await pool.end()
    }
  })
})
