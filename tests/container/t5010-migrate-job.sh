#!/bin/bash
# t5010: the one-off path of the release image, as a Kubernetes Job or
# `podman run --rm IMAGE ...` runs it, against the suite's PostgreSQL over
# 127.0.0.1 with the URL and its password in a secret file
# (DATABASE_URL_FILE):
# migrate applies the app's migrations (one of them CREATE INDEX
# CONCURRENTLY), and every exit code of DESIGN.md's table comes out of
# `podman run` unchanged (the manifests in deploy/ depend on it).
. "${SRCDIR:?}/tests/container/lib-container.sh"

ct_require_engine
ct_image
ct_pg_start

# --- migrate -------------------------------------------------------------
ct_run -- migrate
is "$rc" 0 "podman run --rm IMAGE migrate exits 0"
[ "$rc" = 0 ] || printf '# %s\n' "$err"
is "$(ct_psql -c "SELECT string_agg(tablename, ' ' ORDER BY tablename)
	FROM pg_tables WHERE schemaname = 'public'")" "jobs users" \
	"the app's tables exist"
is "$(ct_psql -c "SELECT indisvalid FROM pg_index
	WHERE indexrelid = 'users_active_last_login_idx'::regclass")" t \
	"the index built CONCURRENTLY (transaction:false) is valid"
is "$(ct_psql -c "SELECT count(*) FROM information_schema.columns
	WHERE table_name = 'users' AND column_name = 'deactivated_at'")" 1 \
	"all four migrations ran"
is "$(ct_psql -c "SELECT tableowner FROM pg_tables WHERE tablename = 'users'")" app \
	"they ran as the app's role, logged in with the secret file's URL"

ct_run -- migrate
is "$rc" 0 "a second migrate exits 0"
ct_run -- migrate status --check
is "$rc" 0 "migrate status --check: nothing pending (0)"
like "$out" '0004' "status names the migrations"

# --- exit codes: config, database, usage -----------------------------------
"$ENGINE" run --rm --network=host -e "DATABASE_URL=$DBURL" "$IMG" \
	migrate status >/dev/null 2>"$T/e"
is "$?" 77 "no password: authentication failure is 77"
"$ENGINE" run --rm --network=none "$IMG" migrate >/dev/null 2>"$T/e"
is "$?" 78 "no DATABASE_URL (require_env): 78"
like "$(cat "$T/e")" 'DATABASE_URL' "the message names the variable"
"$ENGINE" run --rm --network=none -e "DATABASE_URL=$DBURL" \
	-e DATABASE_URL_FILE=/etc/hostname "$IMG" migrate >/dev/null 2>&1
is "$?" 78 "DATABASE_URL and DATABASE_URL_FILE both set: 78"
port=$(ct_free_port)
"$ENGINE" run --rm --network=host -e DATABASE_WAIT=1s \
	-e "DATABASE_URL=postgresql://app@127.0.0.1:$port/app" "$IMG" \
	migrate >/dev/null 2>&1
is "$?" 69 "database unreachable within wait: 69"
ct_run -- migrat
is "$rc" 64 "an unknown command: 64"
like "$err" 'migrate' "the closest command is suggested"
ct_run -- task no-such-task
is "$rc" 64 "an unknown task: 64"

# --- a changed or failing migration: 65, nothing left behind ---------------
cp -r "$SRCDIR/migrations" "$T/changed"
sed -i 's/name          text NOT NULL,/name          text,/' \
	"$T/changed/0001_create_users.sql"
ct_run -v "$T/changed:/app/migrations:ro" -- migrate
is "$rc" 65 "an applied migration that changed: 65"
like "$err" '0001_create_users.sql.* changed' "the message names the file"
ct_run -v "$T/changed:/app/migrations:ro" -- migrate status
like "$out" 'changed +0001_create_users' "status shows it as changed"
cp -r "$SRCDIR/migrations" "$T/bad"
cat >"$T/bad/0005_broken.sql" <<'EOF'
-- migrate:up
CREATE TABLE t5010_partial (id int);
INSERT INTO no_such_table VALUES (1);
-- migrate:down
DROP TABLE t5010_partial;
EOF
ct_run -v "$T/bad:/app/migrations:ro" -- migrate
is "$rc" 65 "a migration whose SQL fails: 65"
is "$(ct_psql -c "SELECT count(*) FROM pg_tables WHERE tablename = 't5010_partial'")" 0 \
	"the failed migration left nothing behind"

# --- tasks as a Job runs them ------------------------------------------------
ct_run -- task users-report
is "$rc" 0 "task users-report: 0"
like "$out" 'users_total +0' "its report is on stdout"
ct_run -- task users-report --dry-run
is "$rc" 64 "--dry-run on a task without dry-run: 64, nothing run"
ct_run -- task deactivate-stale-users
is "$rc" 77 "a confirm = yes task without a terminal or --yes: 77"
ct_run -- task deactivate-stale-users --dry-run
is "$rc" 0 "its dry run needs no confirmation: 0"
like "$out" 'dry run: would deactivate 0 users' "and reports how many"

mapfile -t a < <(ct_app_args)
printf 'email,name,last_login_at\nann@example.org,Ann,2020-01-01\nbad-email,Bob,\n' \
	>"$T/bad.csv"
"$ENGINE" run --rm -i "${a[@]}" "$IMG" task import-users-csv -- - \
	<"$T/bad.csv" >"$T/o" 2>"$T/e"
is "$?" 65 "the task's own exit code (65, bad rows) comes through"
like "$(cat "$T/e")" 'line 3: invalid email "bad-email"' "with the bad row's line number"
printf 'email,name,last_login_at\nann@example.org,Ann,2020-01-01\nbob@example.org,Bob,\n' \
	>"$T/good.csv"
"$ENGINE" run --rm -i "${a[@]}" "$IMG" task import-users-csv -- - \
	<"$T/good.csv" >"$T/o" 2>"$T/e"
is "$?" 0 "import from standard input (podman run -i): 0"
is "$(ct_psql -c 'SELECT count(*) FROM users')" 2 "two users imported"

ct_run -e ENTRYPOINT_ACTOR=t5010 -- task deactivate-stale-users --yes
is "$rc" 0 "task deactivate-stale-users --yes: 0"
like "$out" 'batch 1: deactivated 1 users' "ann, last seen in 2020, is deactivated"

# --- exclusive = yes: a second run while the first holds the lock: 75 ------
mkfifo "$T/lockfifo"
psql -X -q -d app <"$T/lockfifo" >/dev/null 2>&1 &
track $!
exec 3>"$T/lockfifo"
echo 'BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE;' >&3
locked() {
	[ "$(ct_psql -c "SELECT count(*) FROM pg_locks l JOIN pg_class c
		ON c.oid = l.relation WHERE c.relname = 'users'
		AND l.mode = 'AccessExclusiveLock' AND l.granted")" = 1 ]
}
wait_for 20 locked
ct_name first
first=$CT_NAME
"$ENGINE" run -d --name "$first" "${a[@]}" "$IMG" \
	task deactivate-stale-users --yes >/dev/null
blocked() {
	[ "$(ct_psql -c "SELECT count(*) FROM pg_stat_activity
		WHERE application_name LIKE 'deactivate-stale-users%'
		AND wait_event_type = 'Lock'")" = 1 ]
}
ok "the first run holds the task's lock and waits on the table" wait_for 30 blocked
ct_run -- task deactivate-stale-users --yes
is "$rc" 75 "a second run of an exclusive task: 75 (busy, retry)"
echo 'COMMIT;' >&3
exec 3>&-
finished() { [ "$(ct_state "$first" Running)" = false ]; }
ok "the first run finishes once the table is free" wait_for 30 finished
is "$(ct_state "$first" ExitCode)" 0 "and exits 0"

# --- timeout: 124, recorded --------------------------------------------------
{
	cat "$SRCDIR/entrypoint.ini"
	printf '\n[task.t5010-sleep]\ncommand = sleep 60\ndescription = sleeps\ntimeout = 1s\n'
} >"$T/timeout.ini"
chmod 644 "$T/timeout.ini"
ct_run -v "$T/timeout.ini:/etc/t5010.ini:ro" -e ENTRYPOINT_CONFIG=/etc/t5010.ini \
	-- task t5010-sleep
is "$rc" 124 "a task past its timeout: 124"

# --- history ---------------------------------------------------------------
ct_run -- history -n 50
is "$rc" 0 "history runs in the image"
like "$out" 'deactivate-stale-users' "it lists the task runs"
like "$out" 't5010' "with the actor a Job sets (ENTRYPOINT_ACTOR)"
release=$("$ENGINE" image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' \
	"$IMG" | sed -n 's/^RELEASE=//p')
like "$out" " $release " "and the image's release ($release)"

done_testing
