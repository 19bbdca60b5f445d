-- migrate:up
-- The example app's users: the web page lists them, the tasks import,
-- report on and deactivate them.
CREATE TABLE users (
	id            bigserial PRIMARY KEY,
	email         text NOT NULL UNIQUE CHECK (email = lower(email)),
	name          text NOT NULL,
	active        boolean NOT NULL DEFAULT true,
	last_login_at timestamptz,
	created_at    timestamptz NOT NULL DEFAULT now()
);

-- migrate:down
DROP TABLE users;
