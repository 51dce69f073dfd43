/**
 * The PostgreSQL schema of the session store, for a table name checked by the config
 * (`POSTGRES_SESSION_TABLE`, lower-case letters, digits and `_`). The store runs it on first use;
 * postgres-schema.sql beside this file is the same text for the default name, for migration tools.
 */
export function postgresSchema(table: string): string {
  return `-- Sessions of @auth0/auth0-nuxt, encrypted (AES-256-GCM); sid/sub/iss only as keyed hashes.
CREATE TABLE IF NOT EXISTS ${table} (
  id         text PRIMARY KEY,
  payload    bytea NOT NULL,
  expires_at timestamptz NOT NULL,
  created_at bigint NOT NULL,
  sid_keys   text[] NOT NULL,
  sub_key    text,
  iss_key    text
);
CREATE INDEX IF NOT EXISTS ${table}_sid_keys_idx ON ${table} USING gin (sid_keys);
CREATE INDEX IF NOT EXISTS ${table}_sub_key_idx ON ${table} (sub_key);
CREATE INDEX IF NOT EXISTS ${table}_expires_at_idx ON ${table} (expires_at);

-- A revoked sid or sub, so that a write still in flight cannot bring its sessions back.
CREATE TABLE IF NOT EXISTS ${table}_revocations (
  key        text PRIMARY KEY,
  revoked_at bigint NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS ${table}_revocations_expires_at_idx ON ${table}_revocations (expires_at);

-- Writes take shared advisory locks on their keys and a revocation an exclusive one, so a write
-- and a revocation of the same key never interleave; each statement in a function sees what
-- committed before it, so a write that waited sees the revocation.
CREATE OR REPLACE FUNCTION ${table}_write(
  p_id text, p_payload bytea, p_expires_at bigint, p_created_at bigint,
  p_sid_keys text[], p_sub_key text, p_iss_key text
) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  lock_keys text[] := array_remove(p_sid_keys || p_sub_key || ('id:' || p_id), NULL);
BEGIN
  PERFORM pg_advisory_xact_lock_shared(hashtextextended(k, 0)) FROM unnest(lock_keys) AS k ORDER BY k;
  IF EXISTS (SELECT 1 FROM ${table}_revocations
             WHERE key = ANY(lock_keys) AND revoked_at >= p_created_at AND expires_at > now()) THEN
    DELETE FROM ${table} WHERE id = p_id;
    RETURN false;
  END IF;
  INSERT INTO ${table} (id, payload, expires_at, created_at, sid_keys, sub_key, iss_key)
  VALUES (p_id, p_payload, to_timestamp(p_expires_at), p_created_at, p_sid_keys, p_sub_key, p_iss_key)
  ON CONFLICT (id) DO UPDATE SET payload = EXCLUDED.payload, expires_at = EXCLUDED.expires_at,
    created_at = EXCLUDED.created_at, sid_keys = EXCLUDED.sid_keys, sub_key = EXCLUDED.sub_key, iss_key = EXCLUDED.iss_key;
  RETURN true;
END $$;

-- Deleting a session (logout at the app) revokes its id, so a write still in flight cannot bring it back.
CREATE OR REPLACE FUNCTION ${table}_remove(p_id text, p_removed_at bigint, p_revocation_seconds bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('id:' || p_id, 0));
  INSERT INTO ${table}_revocations (key, revoked_at, expires_at)
  VALUES ('id:' || p_id, p_removed_at, now() + make_interval(secs => p_revocation_seconds))
  ON CONFLICT (key) DO UPDATE SET revoked_at = greatest(${table}_revocations.revoked_at, EXCLUDED.revoked_at),
    expires_at = greatest(${table}_revocations.expires_at, EXCLUDED.expires_at);
  DELETE FROM ${table} WHERE id = p_id;
END $$;

CREATE OR REPLACE FUNCTION ${table}_revoke(
  p_sid_key text, p_sub_key text, p_iss_key text,
  p_revoked_key text, p_revoked_at bigint, p_revocation_seconds bigint
) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  deleted integer;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(p_revoked_key, 0));
  INSERT INTO ${table}_revocations (key, revoked_at, expires_at)
  VALUES (p_revoked_key, p_revoked_at, now() + make_interval(secs => p_revocation_seconds))
  ON CONFLICT (key) DO UPDATE SET revoked_at = greatest(${table}_revocations.revoked_at, EXCLUDED.revoked_at),
    expires_at = greatest(${table}_revocations.expires_at, EXCLUDED.expires_at);
  -- Two branches, so that each DELETE has an indexed condition the planner can always use.
  IF p_sid_key IS NOT NULL THEN
    DELETE FROM ${table} WHERE sid_keys @> ARRAY[p_sid_key] AND created_at <= p_revoked_at
      AND (p_sub_key IS NULL OR sub_key = p_sub_key) AND (p_iss_key IS NULL OR iss_key = p_iss_key);
  ELSE
    DELETE FROM ${table} WHERE sub_key = p_sub_key AND created_at <= p_revoked_at
      AND (p_iss_key IS NULL OR iss_key = p_iss_key);
  END IF;
  GET DIAGNOSTICS deleted = ROW_COUNT;
  RETURN deleted;
END $$;
`
}
