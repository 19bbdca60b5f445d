#!/bin/bash
# t5020: the long-running processes of the release image in podman, with
# entrypoint as PID 1 (CONTAINERS.md "What the container tests should
# show"): web waits for the migrations, serves, and stops cleanly on
# `podman stop` (the exit code says so); `podman exec -it ... entrypoint
# shell` under a real pty gets web's environment; PID 1 is entrypoint and
# reaps orphans (no zombies); a one-off run that leaves a background
# process still ends; the worker finishes its job in hand on stop.
. "${SRCDIR:?}/tests/container/lib-container.sh"

ct_require_engine
command -v script >/dev/null 2>&1 || skip_all "script(1) not found (bsdutils)"
ct_image
ct_pg_start
mapfile -t A < <(ct_app_args)

logs() {
	"$ENGINE" logs "$1" 2>&1
}
running() {
	[ "$(ct_state "$1" Running)" = true ]
}
stopped() {
	[ "$(ct_state "$1" Running)" = false ]
}

# --- web waits for its migrations (require_migrations = wait) -------------
ct_name web
web=$CT_NAME
port=$(ct_free_port)
"$ENGINE" run -d --name "$web" "${A[@]}" -e PORT="$port" "$IMG" >/dev/null
is "$?" 0 "podman run -d IMAGE (CMD web) starts"
gated() {
	logs "$web" | grep -q 'pending'
}
ok "web does not start while migrations are pending: it says so" wait_for 30 gated
unlike "$(logs "$web")" 'web: listening' "and the app is not started yet"
ct_run -- migrate
is "$rc" 0 "migrate (a one-off container) exits 0"
healthy() {
	ct_http "http://127.0.0.1:$port/healthz" >/dev/null 2>&1
}
ok "then web starts and answers /healthz" wait_for 60 healthy
ct_psql -c "INSERT INTO users (email, name) VALUES ('zoe@example.org', 'Zoe')"
like "$(ct_http "http://127.0.0.1:$port/")" '<td>zoe@example.org</td><td>Zoe</td>' \
	"the page lists users from PostgreSQL"
is "$(ct_http "http://127.0.0.1:$port/readyz")" ready "/readyz reaches the database"

# --- PID 1 ---------------------------------------------------------------
is "$("$ENGINE" exec "$web" cat /proc/1/cmdline | tr '\0' ' ')" "entrypoint web " \
	"PID 1 is entrypoint web"
child=$("$ENGINE" exec "$web" cat /proc/1/task/1/children | tr -d ' ')
is "$("$ENGINE" exec "$web" cat "/proc/$child/cmdline" | tr '\0' ' ')" \
	"python3 -m app.web " "its child is the app's web command"

# An orphan: sh starts a sleep and exits; the sleep is reparented to PID 1
# (the exec'd process has no parent inside the container), and when it
# exits PID 1 must reap it, or it stays a zombie.
orphan=$("$ENGINE" exec "$web" sh -c 'sleep 2 >/dev/null 2>&1 & echo $!')
ppid_of_orphan() {
	"$ENGINE" exec "$web" sh -c "sed -n 's/^PPid:[[:space:]]*//p' /proc/$orphan/status" 2>/dev/null
}
is "$(ppid_of_orphan)" 1 "the orphan was reparented to PID 1"
gone() {
	! "$ENGINE" exec "$web" test -e "/proc/$orphan" 2>/dev/null
}
ok "PID 1 reaped it when it exited (no zombie left)" wait_for 20 gone
zombies=$("$ENGINE" exec "$web" sh -c \
	'grep -l "^[0-9]* (.*) Z " /proc/[0-9]*/stat 2>/dev/null | wc -l')
is "$zombies" 0 "no zombie in the container"

# --- entrypoint shell under a pty: web's environment ---------------------
# The console is python3 -i; each answer is printed with a prefix the echo
# of the typed line cannot match.
keys="DATABASE_URL PORT RELEASE ENTRYPOINT_RELEASE PYTHONUNBUFFERED PATH"
{
	echo 'import os, sys'
	echo 'print("TT" + "Y=" + str(sys.stdin.isatty()))'
	echo 'print("PRO" + "C=" + os.environ.get("ENTRYPOINT_PROCESS", ""))'
	for k in $keys; do
		echo "print(\"E\" + \"NV:$k=\" + os.environ.get(\"$k\", \"-\"))"
	done
	echo 'exit()'
} >"$T/console.in"
timeout 60 script -qec "$ENGINE exec -it $web entrypoint shell" /dev/null \
	<"$T/console.in" >"$T/console.out" 2>&1
is "$?" 0 "podman exec -it CONTAINER entrypoint shell exits 0"
console=$(tr -d '\r' <"$T/console.out")
like "$console" '^TTY=True' "the shell's stdin is a terminal"
like "$console" '^PROC=shell' "ENTRYPOINT_PROCESS=shell"
shell_env=$(printf '%s\n' "$console" | sed -n 's/^ENV://p')
web_env=$("$ENGINE" exec "$web" cat "/proc/$child/environ" | tr '\0' '\n' |
	grep -E "^($(echo "$keys" | tr ' ' '|'))=" | sort)
is "$(printf '%s\n' "$shell_env" | sort)" "$web_env" \
	"the shell sees what web sees ($keys)"

# --- podman stop: TERM through PID 1, clean stop, exit code 0 ------------
"$ENGINE" stop -t 10 "$web" >/dev/null
is "$(ct_state "$web" ExitCode)" 0 "podman stop: web stopped cleanly, exit code 0 (not 137)"
like "$(logs "$web")" 'web: got SIGTERM, stopping' "web got the stop signal through PID 1"
like "$(logs "$web")" 'web: stopped' "and shut down"

# --- a one-off that leaves a process behind still ends --------------------
timeout 120 "$ENGINE" run --rm "${A[@]}" "$IMG" \
	run sh -c 'sleep 300 & echo started' >"$T/o" 2>"$T/e"
is "$?" 0 "run: the main command's exit code (0), though its background sleep was still running"
is "$(cat "$T/o")" started "its output came through"

# --- worker ----------------------------------------------------------------
ct_name worker
worker=$CT_NAME
"$ENGINE" run -d --name "$worker" "${A[@]}" -e WORKER_POLL_SECONDS=0.5 \
	"$IMG" worker >/dev/null
is "$?" 0 "podman run -d IMAGE worker starts"
waiting() {
	logs "$worker" | grep -q 'worker: waiting for jobs'
}
ok "the worker is waiting for jobs" wait_for 60 waiting
ct_psql -c "INSERT INTO jobs (kind, payload)
	SELECT 'welcome', jsonb_build_object('email', 'u' || g || '@example.org')
	  FROM generate_series(1, 20) g; NOTIFY jobs"
all_done() {
	[ "$(ct_psql -c "SELECT count(*) FROM jobs WHERE status <> 'done'")" = 0 ]
}
ok "the worker takes every queued job" wait_for 60 all_done
ct_psql -c "INSERT INTO jobs (kind, payload) VALUES ('sleep', '{\"seconds\": 3}'); NOTIFY jobs"
taken() {
	logs "$worker" | grep -q 'sleep' ||
		[ "$(ct_psql -c "SELECT count(*) FROM pg_locks l JOIN pg_class c
			ON c.oid = l.relation WHERE c.relname = 'jobs'
			AND l.mode = 'RowShareLock'")" -gt 0 ]
}
wait_for 30 taken
"$ENGINE" stop -t 20 "$worker" >/dev/null
is "$(ct_state "$worker" ExitCode)" 0 "podman stop: the worker exits 0"
is "$(ct_psql -c "SELECT status FROM jobs WHERE kind = 'sleep'")" "done" \
	"the job in hand when the stop came was finished"
like "$(logs "$worker")" 'worker: stopped' "the worker says it stopped"

done_testing
