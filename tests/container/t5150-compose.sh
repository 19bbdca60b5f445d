#!/bin/bash
# t5150: docker-compose.yml, run for real: Debian's docker-compose 1.29
# drives podman through its Docker API socket (`podman system service`),
# with tests/container/compose-override.yml for what this machine cannot do
# (no bridge network, no registry: a local postgres image).  The project's
# docker-compose.yml is used as a Docker user runs it, except for what an
# override cannot delete and compose 1.29 or docker-py refuse: the
# top-level name: and web's ports: are left out of the test's copy.
# Checked: no network is created; db becomes healthy; migrate runs once,
# exits 0 and has finished before web and worker start; web answers and
# becomes healthy (its healthcheck as written); `stop web worker` ends
# both cleanly (exit 0, each says it stopped on the signal), `down`
# removes the containers and the volume.  (compose 1.29 would stop db
# together with web and worker: hence stop first, then down.)
. "${SRCDIR:?}/tests/container/lib-container.sh"

ct_require_engine
[ "$ENGINE" = podman ] || skip_all "the podman API socket is what this test drives"
command -v docker-compose >/dev/null 2>&1 ||
	skip_all "no docker-compose (make deps installs Debian's 1.29)"

P=ep-t5150-$$
IMG=localhost/$P-app:test
ct_track_image "$IMG"
ct_image
PG_IMG=localhost/entrypoint-test-postgres:15
"$ENGINE" build --network=host -t "$PG_IMG" "$SRCDIR/tests/container/postgres" \
	>"$T/pg-build.log" 2>&1 || {
	tail -n 20 "$T/pg-build.log" >&2
	echo "Bail out! the local postgres image does not build"
	exit 1
}

# --- the podman API socket ----------------------------------------------------
SOCK=$T/podman.sock
podman system service --time=0 "unix://$SOCK" >"$T/service.log" 2>&1 &
track $!
api_up() {
	"$PY" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
sys.exit(0 if s.recv(64).startswith(b"HTTP/1.0 200") else 1)' "$SOCK" 2>/dev/null
}
ct_wait_for 30 api_up
ok "podman system service answers on $SOCK" api_up

# --- the project: docker-compose.yml without name: and web's ports: ----------
W=$T/project
mkdir -p "$W/.secrets"
"$PY" - "$SRCDIR/docker-compose.yml" "$W/docker-compose.yml" <<-'EOF'
	import sys, yaml
	with open(sys.argv[1]) as f:
	    doc = yaml.safe_load(f)
	doc.pop("name", None)
	doc["services"]["web"].pop("ports", None)
	with open(sys.argv[2], "w") as f:
	    yaml.safe_dump(doc, f, sort_keys=False)
EOF
pw="pw-$RANDOM-$RANDOM-$$"
EP_DB_PORT=$(ct_free_port)
EP_WEB_PORT=$(ct_free_port)
printf '%s\n' "$pw" >"$W/.secrets/db_password"
printf 'postgresql://app:%s@127.0.0.1:%s/app\n' "$pw" "$EP_DB_PORT" \
	>"$W/.secrets/database_url"
chmod 644 "$W/.secrets/"*
export EP_DB_PORT EP_WEB_PORT EP_PG_IMAGE=$PG_IMG IMAGE=$IMG RELEASE=t5150
export DOCKER_HOST=unix://$SOCK COMPOSE_INTERACTIVE_NO_CLI=1
dc() {
	docker-compose --no-ansi -p "$P" -f "$W/docker-compose.yml" \
		-f "$SRCDIR/tests/container/compose-override.yml" "$@"
}
compose_down() {
	dc down -v -t 5 >/dev/null 2>&1
}
trap 'compose_down; ct_cleanup; _pg_cleanup' EXIT
# psql on the compose project's database, as the app's role
ct_psql_at() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 \
		"postgresql://app:$pw@127.0.0.1:$EP_DB_PORT/app" "$@"
}

# Refuse to start anything that would create a network.
dc config >"$T/config.yml" 2>"$T/config.err"
r=$?
is "$r" 0 "docker-compose config accepts the file and the override"
[ "$r" = 0 ] || sed 's/^/# /' "$T/config.err"
"$PY" - "$T/config.yml" >"$T/modes" <<-'EOF'
	import sys, yaml
	doc = yaml.safe_load(open(sys.argv[1]))
	for name, svc in sorted(doc["services"].items()):
	    print(name, svc.get("network_mode", "-"))
	print("networks", len(doc.get("networks") or {}))
EOF
is "$(tr '\n' ' ' <"$T/modes")" \
	"db host migrate host web host worker host networks 0 " \
	"every service is on the host network, no network is defined"
if [ "$(tr '\n' ' ' <"$T/modes")" != \
	"db host migrate host web host worker host networks 0 " ]; then
	echo "Bail out! the merged file would create a bridge network"
	exit 1
fi

# --- up ------------------------------------------------------------------------
# Podman's health timers need systemd: run the checks while up waits.
cid() {
	"$ENGINE" ps -aq --filter "label=com.docker.compose.project=$P" \
		--filter "label=com.docker.compose.service=$1"
}
(
	for ((i = 0; i < 600; i++)); do
		for s in db web; do
			c=$(cid "$s")
			[ -n "$c" ] && podman healthcheck run "$c" >/dev/null 2>&1
		done
		sleep 0.5
	done
) &
track $!
timeout 300 docker-compose --no-ansi -p "$P" -f "$W/docker-compose.yml" \
	-f "$SRCDIR/tests/container/compose-override.yml" up -d --no-build \
	>"$T/up.log" 2>&1
r=$?
is "$r" 0 "docker-compose up -d --no-build"
[ "$r" = 0 ] || tail -n 20 "$T/up.log" | sed 's/^/# /'

state() {
	"$ENGINE" inspect --format "{{.State.$2}}" "$(cid "$1")" 2>/dev/null
}
is "$(state migrate ExitCode)" 0 "migrate exited 0"
is "$(state migrate Status)" exited "migrate is a one-off: it is not running"
is "$("$ENGINE" ps -aq --filter "label=com.docker.compose.project=$P" \
	--filter label=com.docker.compose.service=migrate | wc -l)" 1 \
	"one migrate container"
is "$(ct_psql_at -c "SELECT count(*) FROM entrypoint.runs
	WHERE command = 'migrate'")" 1 "migrate ran once (one audit row)"
is "$(ct_psql_at -c "SELECT count(*) FROM entrypoint.migrations")" \
	"$(find "$SRCDIR/migrations" -name '*.sql' | wc -l)" \
	"every migration of the image was applied"

ns() {
	date -d "$(state "$1" "$2" | sed 's/ +0000 UTC$//; s/ [A-Z]*$//')" +%s%N
}
mig_end=$(ns migrate FinishedAt)
for s in web worker; do
	is "$(state "$s" Running)" true "$s runs"
	st=$(ns "$s" StartedAt)
	ok "$s started after migrate had finished" [ "$st" -gt "$mig_end" ]
done

healthy() {
	[ "$(state web Health.Status)" = healthy ]
}
ct_wait_for 60 healthy
is "$(state web Health.Status)" healthy \
	"web's healthcheck, as docker-compose.yml writes it, passes"
like "$(ct_http "http://127.0.0.1:$EP_WEB_PORT/healthz")" . "web answers"

# --- stop, down ------------------------------------------------------------------
dc stop -t 20 web worker >"$T/stop.log" 2>&1
for s in web worker; do
	is "$(state "$s" Status)" exited "stop: $s has stopped"
	is "$(state "$s" ExitCode)" 0 "stop: $s exited 0 (a clean shutdown)"
done
like "$("$ENGINE" logs "$(cid worker)" 2>&1)" 'SIGTERM' \
	"the worker saw the SIGTERM (through entrypoint as PID 1)"
is "$(state db Running)" true "db still runs while web and worker stop"
dc down -v -t 10 >"$T/down.log" 2>&1
is "$?" 0 "docker-compose down -v"
is "$("$ENGINE" ps -aq --filter "label=com.docker.compose.project=$P" | wc -l)" 0 \
	"down removed every container of the project"
ok "and the volume" bash -c "! $ENGINE volume exists ${P}_db-data"

done_testing
