-- migrate:up
-- The worker's queue: it takes one queued job at a time with
-- SELECT ... FOR UPDATE SKIP LOCKED, so several workers never take the same.
CREATE TABLE jobs (
	id          bigserial PRIMARY KEY,
	kind        text NOT NULL,
	payload     jsonb NOT NULL DEFAULT '{}',
	status      text NOT NULL DEFAULT 'queued'
	            CHECK (status IN ('queued', 'done', 'failed')),
	attempts    integer NOT NULL DEFAULT 0,
	error       text,
	created_at  timestamptz NOT NULL DEFAULT now(),
	finished_at timestamptz
);
CREATE INDEX jobs_queued_idx ON jobs (id) WHERE status = 'queued';

-- migrate:down
DROP TABLE jobs;
