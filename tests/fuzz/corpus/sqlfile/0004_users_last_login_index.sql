-- migrate:up transaction:false
-- deactivate-stale-users looks for active users by last login.  Built
-- CONCURRENTLY so a big users table stays writable while the index builds;
-- CREATE INDEX CONCURRENTLY cannot run inside a transaction, hence
-- transaction:false.  IF NOT EXISTS makes a retry after a failure harmless.
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_active_last_login_idx
	ON users (last_login_at) WHERE active;

-- migrate:down
DROP INDEX IF EXISTS users_active_last_login_idx;
