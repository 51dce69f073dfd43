-- Sessions of @auth0/auth0-nuxt, encrypted (AES-256-GCM); sid/sub/iss only as keyed hashes.
-- A row whose payload is NULL is a tombstone: an ended session, whose id stays refused until expires_at.
-- created_at is when the id was first stored, in milliseconds on the database's clock. An id
-- "once:<hash>" with no payload is a marker of recordOnce() (a logout token's jti), expiring likewise.
-- A row up to 8 kB keeps its payload in place (toast_tuple_target) instead of moving it to the TOAST
-- table past 2 kB: a sealed payload never compresses, and reading or writing a session then touches
-- its row only, not also its TOAST chunks and their index. The cost is space: two 2.9 kB sessions fill
-- an 8 kB page, 4.1 kB each, against 3.2 kB with TOAST.
CREATE TABLE IF NOT EXISTS auth0_sessions (
  id         text PRIMARY KEY,
  payload    bytea,
  expires_at timestamptz NOT NULL,
  created_at bigint NOT NULL,
  sid_keys   text[] NOT NULL,
  sub_key    text,
  iss_key    text
) WITH (toast_tuple_target = 8160);

-- A table of the schema before tombstones (payload NOT NULL, created_at in seconds or missing, a
-- revocations table and functions): migrated once, in this transaction.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'auth0_sessions'::regclass AND attname = 'payload' AND attnotnull) THEN
    ALTER TABLE auth0_sessions ALTER COLUMN payload DROP NOT NULL, ADD COLUMN IF NOT EXISTS created_at bigint NOT NULL DEFAULT 0;
    ALTER TABLE auth0_sessions ALTER COLUMN created_at DROP DEFAULT;
    UPDATE auth0_sessions SET created_at = created_at * 1000 WHERE created_at < 100000000000;
    DROP INDEX IF EXISTS auth0_sessions_sub_key_idx;
    DROP FUNCTION IF EXISTS auth0_sessions_write, auth0_sessions_remove, auth0_sessions_revoke;
    DROP TABLE IF EXISTS auth0_sessions_revocations;
  END IF;
END $$;

-- A table made before payloads were kept in place: its rows move in place as they are next written.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_class WHERE oid = 'auth0_sessions'::regclass AND 'toast_tuple_target=8160' = ANY (reloptions)) THEN
    ALTER TABLE auth0_sessions SET (toast_tuple_target = 8160);
  END IF;
END $$;

-- rate-limiter-flexible's counters (its own layout), so that every app server shares the counts.
CREATE TABLE IF NOT EXISTS auth0_sessions_rate_limits (
  key    varchar(255) PRIMARY KEY,
  points integer NOT NULL DEFAULT 0,
  expire bigint
);

CREATE INDEX IF NOT EXISTS auth0_sessions_sid_keys_idx ON auth0_sessions USING gin (sid_keys);
CREATE INDEX IF NOT EXISTS auth0_sessions_sub_key_created_at_idx ON auth0_sessions (sub_key, created_at);
CREATE INDEX IF NOT EXISTS auth0_sessions_expires_at_idx ON auth0_sessions (expires_at);
