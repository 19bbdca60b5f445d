#!/bin/bash
# t5110: the README's "Use it in your own image" is the test.  Every
# ```dockerfile block of README.md (or ```Dockerfile, ```docker,
# ```containerfile) is extracted as written, built with the
# engine against the local debian:bookworm-slim (scripts/image.sh makes it),
# and run: `migrate` against the suite's PostgreSQL, a task, and `web`
# stopped cleanly by `stop`.  The build context is a small app of this
# test's own (entrypoint.ini, migrations/, app/) plus entrypoint-src/ (the
# tracked files of this tree) for the from-source builder stage.
# `COPY --from=entrypoint:VERSION` must name this tree's VERSION; the test
# builds that image with scripts/dist-image.sh under a name of its own and
# points the block's --from at it (the only change made to a block).
# A README that drifts (a block that no longer builds or runs, a stale
# version) fails here.
. "${SRCDIR:?}/tests/container/lib-container.sh"

ct_require_engine
V=$(cat "$SRCDIR/VERSION")

# --- the blocks --------------------------------------------------------------
mkdir -p "$T/blocks"
awk -v dir="$T/blocks" '
	tolower($0) ~ /^```(dockerfile|containerfile|docker)[[:space:]]*$/ { n++; f = sprintf("%s/%d.Dockerfile", dir, n); inb = 1; next }
	inb && /^```[[:space:]]*$/ { inb = 0; close(f); next }
	inb { print > f }
' "$SRCDIR/README.md"
mapfile -t blocks < <(find "$T/blocks" -name '*.Dockerfile' | sort -V)
ok "README.md has Dockerfile blocks (${#blocks[@]})" [ "${#blocks[@]}" -ge 2 ]
grep -ho -- '--from=entrypoint:[^ ]*' "${blocks[@]}" | sort -u >"$T/refs"
is "$(cat "$T/refs")" "--from=entrypoint:$V" \
	"the blocks copy from entrypoint:$V, this tree's VERSION"

# --- the binary image, under this test's name -------------------------------
BIN_IMG=localhost/ep-t5110-$$
# make dist (quick when nothing changed): the binaries of this commit
make -s -C "$SRCDIR" dist >"$T/dist.log" 2>&1 || {
	tail -n 20 "$T/dist.log" >&2
	echo "Bail out! make dist failed"
	exit 1
}
dist_image_cleanup() {
	podman manifest rm "$BIN_IMG:$V" >/dev/null 2>&1
	podman rmi -f "$BIN_IMG:$V-amd64" "$BIN_IMG:$V-arm64" >/dev/null 2>&1
}
if [ "$ENGINE" = podman ]; then
	trap 'dist_image_cleanup; ct_cleanup; _pg_cleanup' EXIT
fi
DIST_IMAGE=$BIN_IMG CONTAINER_ENGINE=$ENGINE sh "$SRCDIR/scripts/dist-image.sh" \
	>"$T/dist-image.log" 2>&1
r=$?
is "$r" 0 "scripts/dist-image.sh builds the binary image"
[ "$r" = 0 ] || sed 's/^/# /' "$T/dist-image.log"
IMAGE=unused CONTAINER_ENGINE=$ENGINE sh "$SRCDIR/scripts/image.sh" --base-only \
	>"$T/base.log" 2>&1 || { cat "$T/base.log" >&2; echo "Bail out! no base image"; exit 1; }

# --- the app the blocks are built around ------------------------------------
C=$T/ctx
mkdir -p "$C/migrations" "$C/app" "$C/entrypoint-src"
cat >"$C/entrypoint.ini" <<'INI'
[app]
name = readme-app
release = ${RELEASE:-dev}
require_env = DATABASE_URL

[database]
url = ${DATABASE_URL}
migrations = migrations

[process.web]
command = app/web.sh
require_migrations = fail

[task.hello]
command = app/hello.sh
description = Count the widgets
INI
cat >"$C/migrations/0001_widgets.sql" <<'SQL'
-- migrate:up
CREATE TABLE widgets (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO widgets VALUES (1, 'one'), (2, 'two');
-- migrate:down
DROP TABLE widgets;
SQL
cat >"$C/app/web.sh" <<'SH'
#!/bin/sh
# A web process that says when it is up and when it stops on TERM.
trap 'echo "web: TERM, stopping"; exit 0' TERM
echo "web: up as $(id -u), release $ENTRYPOINT_RELEASE"
while :; do
	sleep 1 &
	wait $!
done
SH
cat >"$C/app/hello.sh" <<'SH'
#!/bin/sh
echo "hello from task $ENTRYPOINT_TASK, run $ENTRYPOINT_RUN_ID"
SH
chmod 755 "$C/app/web.sh" "$C/app/hello.sh"
(cd "$SRCDIR" && git ls-files -z | tar --null -T - -cf -) |
	tar -xf - -C "$C/entrypoint-src"

ct_pg_start
mapfile -t app_args < <(ct_app_args)

for b in "${blocks[@]}"; do
	n=$(basename "$b" .Dockerfile)
	img=localhost/ep-t5110-$$-readme$n:test
	ct_track_image "$img"
	sed "s#--from=entrypoint:$V #--from=$BIN_IMG:$V #" "$b" >"$T/$n.build"
	CONTAINERS_CONF=$CONTAINERS_CONF "$ENGINE" build --network=host \
		--build-arg RELEASE="readme-$n" -t "$img" -f "$T/$n.build" "$C" \
		>"$T/build-$n.log" 2>&1
	r=$?
	is "$r" 0 "README block $n builds"
	if [ "$r" != 0 ]; then
		tail -n 30 "$T/build-$n.log" | sed 's/^/# /'
		continue
	fi
	ct_psql -c 'DROP SCHEMA IF EXISTS entrypoint CASCADE;
		DROP TABLE IF EXISTS public.widgets' >/dev/null 2>&1

	IMG=$img ct_run -- migrate
	is "$rc" 0 "block $n: migrate exits 0"
	[ "$rc" = 0 ] || printf '# %s\n' "$err"
	is "$(ct_psql -c 'SELECT count(*) FROM public.widgets')" 2 \
		"block $n: the migration ran against the database"
	is "$(ct_psql -c "SELECT release FROM entrypoint.runs WHERE command = 'migrate'")" \
		"readme-$n" "block $n: its audit row has the release from the build arg"

	IMG=$img ct_run -- task hello
	is "$rc" 0 "block $n: a task exits 0"
	like "$out" '^hello from task hello, run [0-9a-f-]+$' "block $n: the task ran"

	if grep -q 'ln -s entrypoint /usr/local/bin/shell' "$T/$n.build"; then
		# shellcheck disable=SC2016 # for the shell in the container
		IMG=$img ct_run --entrypoint /usr/local/bin/shell -- \
			-c 'echo "$ENTRYPOINT_PROCESS:$ENTRYPOINT_RELEASE"'
		is "$out" "shell:readme-$n" \
			"block $n: its shell link is entrypoint shell (the app's console)"
	fi

	ct_name web
	web=$CT_NAME
	"$ENGINE" run -d --name "$web" "${app_args[@]}" "$img" >/dev/null
	logs() { "$ENGINE" logs "$web" 2>&1; }
	web_up() { logs | grep -q '^web: up'; }
	ct_wait_for 30 web_up
	like "$(logs)" '^web: up as 10001, release readme-[0-9]+$' \
		"block $n: web is up, as the app user (USER app exists)"
	is "$(ct_state "$web" Running)" true "block $n: web runs"
	"$ENGINE" stop -t 10 "$web" >/dev/null 2>&1
	is "$(ct_state "$web" ExitCode)" 0 "block $n: stop: web exits 0"
	like "$(logs)" 'web: TERM, stopping' \
		"block $n: the app got the TERM through PID 1 and stopped by itself"

	ct_name cp
	"$ENGINE" create --name "$CT_NAME" "$img" >/dev/null
	"$ENGINE" cp "$CT_NAME:/usr/local/bin/entrypoint" "$T/ep-$n"
	like "$(file -b "$T/ep-$n")" 'statically linked' \
		"block $n: /usr/local/bin/entrypoint is the static binary"
	if grep -q -- "--from=$BIN_IMG" "$T/$n.build"; then
		ok "block $n: it is dist's x86_64 binary" \
			cmp -s "$T/ep-$n" "$SRCDIR/build/dist/x86_64/entrypoint"
	fi
done

done_testing
