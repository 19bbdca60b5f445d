# shellcheck shell=bash
# lib-container.sh - the real release image in a real OCI runtime.
# Source it after nothing else: it sources tests/sh/lib.sh.
#
#	. "$SRCDIR/tests/container/lib-container.sh"
#	ct_require_engine          # skip_all without podman/docker or root
#	ct_image                   # build (cached) the image: $IMG
#	ct_pg_start                # PostgreSQL on 127.0.0.1:$PGPORT, see below
#	ct_run [ENGINE RUN ARGS] -- IMAGE ARGS...
#
# The image is built from the same Dockerfile as `make image`, with the
# builder stage swapped for build/entrypoint-static (made when missing; or
# CT_BINARY=build/DIR/entrypoint-static) so a build takes seconds once
# podman has the layers.  Set CONTAINER_IMAGE to
# test an image built elsewhere instead.
#
# Containers only ever use --network=host or --network=none (never a
# bridge: see CONTAINERS.md).  Every container a test starts has a name
# from ct_name and is removed (rm -f) at exit.

: "${SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
# shellcheck source=tests/sh/lib.sh
. "$SRCDIR/tests/sh/lib.sh"
# shellcheck source=tests/pg/lib-pg.sh
. "$SRCDIR/tests/pg/lib-pg.sh"

ENGINE=${CONTAINER_ENGINE:-podman}
if [ "$ENGINE" = podman ] && [ -z "${CONTAINERS_CONF:-}" ]; then
	CONTAINERS_CONF=$SRCDIR/tests/container/containers.conf
	export CONTAINERS_CONF
fi
# Debian's python3 (with psycopg2, yaml), whatever else PATH holds.
PY=/usr/bin/python3
IMG=${CONTAINER_IMAGE:-entrypoint-demo:test}
CT_RELEASE=t5-test
# The static binary the image gets (relative to SRCDIR): `make static`'s.
CT_BINARY=${CT_BINARY:-build/entrypoint-static}
_ct_names=()
_ct_images=()

ct_cleanup() {
	local n
	for n in "${_ct_names[@]+"${_ct_names[@]}"}"; do
		if [ "$ENGINE" = podman ]; then
			podman rm -f -t 0 "$n" >/dev/null 2>&1
		else
			"$ENGINE" rm -f "$n" >/dev/null 2>&1
		fi
	done
	_ct_names=()
	for n in "${_ct_images[@]+"${_ct_images[@]}"}"; do
		"$ENGINE" rmi -f "$n" >/dev/null 2>&1
	done
	_ct_images=()
}
trap 'ct_cleanup; _pg_cleanup' EXIT

ct_require_engine() {
	command -v "$ENGINE" >/dev/null 2>&1 ||
		skip_all "no container engine \"$ENGINE\" (make deps)"
	[ "$(id -u)" = 0 ] || [ "$ENGINE" = docker ] ||
		skip_all "podman tests run as root (rootful podman)"
	"$ENGINE" info >/dev/null 2>&1 ||
		skip_all "\"$ENGINE info\" fails: no working container engine"
}

# ct_name PREFIX: a fresh container name in $CT_NAME, removed at exit.
# (Not $(ct_name ...): the name must be recorded in this shell.)
ct_name() {
	CT_NAME="ep-t-$1-$$-$RANDOM"
	_ct_names+=("$CT_NAME")
}

# ct_track_image NAME: remove image NAME at exit.
ct_track_image() {
	_ct_images+=("$1")
}

# ct_image: make sure $IMG exists and is current.  Layers are cached, so
# this is quick after the first build.  The build log is in $T/build.log.
ct_image() {
	if [ -n "${CONTAINER_IMAGE:-}" ]; then
		return 0
	fi
	if [ "$CT_BINARY" = build/entrypoint-static ] &&
	    [ ! -x "$SRCDIR/build/entrypoint-static" ]; then
		make -s -C "$SRCDIR" static >"$T/static.log" 2>&1 || {
			tail -n 20 "$T/static.log" >&2
			echo "Bail out! make static failed"
			exit 1
		}
	fi
	IMAGE=$IMG RELEASE=$CT_RELEASE CONTAINER_ENGINE=$ENGINE \
		EP_BINARY=$CT_BINARY \
		sh "$SRCDIR/scripts/image.sh" >"$T/build.log" 2>&1 || {
		tail -n 30 "$T/build.log" >&2
		echo "Bail out! image build failed"
		exit 1
	}
}

# ct_free_port: a TCP port on 127.0.0.1 nobody listens on right now.
ct_free_port() {
	"$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# ct_pg_start: the suite's PostgreSQL (tests/pg/lib-pg.sh): a unix socket
# for the test itself (psql as superuser, trusted) and 127.0.0.1:$PGPORT
# where a password is required: the containers log in as role "app" (owner
# of database "app").  Their DATABASE_URL, password included, is a secret
# file ($URLFILE_CT) read through DATABASE_URL_FILE.
# Sets DBURL (the same URL without the password) and URLFILE_CT.
ct_pg_start() {
	pg_start
	local pw
	pw="pw-$RANDOM-$RANDOM-$$"
	psql -X -q -v ON_ERROR_STOP=1 -v pw="$pw" >/dev/null <<-'EOF'
	CREATE ROLE app LOGIN PASSWORD :'pw';
	CREATE DATABASE app OWNER app;
	EOF
	DBURL="postgresql://app@127.0.0.1:$PGPORT/app"
	URLFILE_CT=$T/database_url
	printf 'postgresql://app:%s@127.0.0.1:%s/app\n' "$pw" "$PGPORT" \
		>"$URLFILE_CT"
	# The container runs as uid 10001: the secret must be readable.
	chmod 644 "$URLFILE_CT"
	export DBURL URLFILE_CT
}

# ct_psql [PSQL ARGS...]: superuser psql on database app through the
# socket: quiet, unaligned, stop on error.
ct_psql() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 -d app "$@"
}

# The arguments every app container gets: host network and the database
# URL as a secret file read through DATABASE_URL_FILE.
ct_app_args() {
	printf '%s\n' --network=host \
		-e DATABASE_URL_FILE=/run/secrets/database_url \
		-v "$URLFILE_CT:/run/secrets/database_url:ro"
}

# ct_run [RUN OPTIONS...] -- ARGS...: `ENGINE run --rm` of $IMG with the
# app's arguments, capturing $out, $err and $rc like run_ep.
ct_run() {
	local opts=() a
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	mapfile -t a < <(ct_app_args)
	ct_name run
	"$ENGINE" run --rm --name "$CT_NAME" "${a[@]}" \
		"${opts[@]+"${opts[@]}"}" "$IMG" "$@" \
		>"$T/.ct.out" 2>"$T/.ct.err" </dev/null
	rc=$?
	out=$(cat "$T/.ct.out")
	err=$(cat "$T/.ct.err")
	export out err rc
}

# ct_wait_for SECONDS CMD...: like wait_for, for a CMD that is itself slow
# (an engine call takes a good part of a second on a busy machine, so
# wait_for's count of 50 ms polls would stretch its deadline many times):
# poll CMD until it succeeds or SECONDS of wall time have passed.  Returns
# CMD's last status.
ct_wait_for() {
	local end=$((SECONDS + $1)) i
	shift
	for ((i = 0; i < 10000 && SECONDS < end; i++)); do
		"$@" && return 0
		sleep 0.2
	done
	"$@"
}

# ct_state NAME FIELD: e.g. ct_state web ExitCode / Running / Pid
ct_state() {
	"$ENGINE" inspect --format "{{.State.$2}}" "$1" 2>/dev/null
}

# ct_http URL: print the body, fail unless 200.
ct_http() {
	"$PY" - "$1" <<-'EOF'
	import sys, urllib.request
	try:
	    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
	        sys.stdout.write(r.read().decode())
	except Exception as e:
	    sys.stderr.write("%s\n" % e)
	    sys.exit(1)
	EOF
}
