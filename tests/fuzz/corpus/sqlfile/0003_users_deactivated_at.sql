-- migrate:up
-- When deactivate-stale-users (or anyone) deactivated a user.
ALTER TABLE users ADD COLUMN deactivated_at timestamptz;

-- migrate:down
ALTER TABLE users DROP COLUMN deactivated_at;
