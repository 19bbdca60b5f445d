#!/bin/bash
# t5000: the release image itself: what the Dockerfile promises (static
# binary at /usr/local/bin/entrypoint, ENTRYPOINT/CMD, non-root user,
# release from the build arg, the app's files, no compiler), and that the
# binary needs no shell: in a FROM scratch image holding nothing but it and
# a config, it runs processes and tasks and passes exit codes through.
. "${SRCDIR:?}/tests/container/lib-container.sh"

ct_require_engine
ct_image
pass "the image builds from the Dockerfile"

cfg() {
	"$ENGINE" image inspect --format "{{json .Config.$1}}" "$IMG"
}
is "$(cfg Entrypoint)" '["entrypoint"]' 'ENTRYPOINT ["entrypoint"]'
is "$(cfg Cmd)" '["web"]' 'CMD ["web"]'
is "$(cfg User)" '"app"' "USER app"
is "$(cfg WorkingDir)" '"/app"' "WORKDIR /app"
if [ -z "${CONTAINER_IMAGE:-}" ]; then
	like "$(cfg Env)" "\"RELEASE=$CT_RELEASE\"" "the RELEASE build arg is in the environment"
fi

# Tools of the image itself (not entrypoint) through --entrypoint.
img() {
	"$ENGINE" run --rm --network=none --entrypoint "$1" "$IMG" "${@:2}"
}
is "$(img id -u):$(img id -g)" "10001:10001" "it runs as uid 10001, not root"
ok "the app cannot write its release (/app is root's)" \
	bash -c "! $ENGINE run --rm --network=none --entrypoint touch $IMG /app/x 2>/dev/null"
is "$(img sh -c 'command -v gcc cc make musl-gcc; echo none')" none \
	"no compiler in the final image (multi-stage)"
ok "python3 and psycopg2 are there" img python3 -c 'import psycopg2'

# The static binary.
ct_name cp
c=$CT_NAME
"$ENGINE" create --name "$c" "$IMG" >/dev/null
"$ENGINE" cp "$c:/usr/local/bin/entrypoint" "$T/ep"
"$ENGINE" rm -f "$c" >/dev/null
like "$(file -b "$T/ep")" 'statically linked|static-pie linked' "the binary in the image is static"
if [ -z "${CONTAINER_IMAGE:-}" ]; then
	ok "it is $CT_BINARY" cmp -s "$T/ep" "$SRCDIR/$CT_BINARY"
fi
out=$("$ENGINE" run --rm --network=none "$IMG" version)
like "$out" "^entrypoint $(cat "$SRCDIR/VERSION")" "entrypoint version runs in the image"

# The app's files are the repo's.
sums() {
	(cd "$SRCDIR" && sha256sum entrypoint.ini migrations/*.sql tasks/*.py app/*.py)
}
is "$(img sh -c 'cd /app && sha256sum entrypoint.ini migrations/*.sql tasks/*.py app/*.py')" \
	"$(sums)" "/app holds this repo's entrypoint.ini, migrations, tasks and app"

# --- no shell needed -------------------------------------------------------
mkdir -p "$T/scratch"
cp "$T/ep" "$T/scratch/entrypoint"
cat >"$T/scratch/entrypoint.ini" <<'INI'
[app]
name = noshell
[database]
audit = off
[process.web]
command = /entrypoint version
[task.hello]
command = /entrypoint version
description = runs without any shell
INI
cat >"$T/scratch/Containerfile" <<'CF'
FROM scratch
COPY entrypoint /entrypoint
COPY entrypoint.ini /entrypoint.ini
ENTRYPOINT ["/entrypoint"]
CMD ["web"]
CF
noshell=localhost/ep-noshell-$$:test
ct_track_image "$noshell"
"$ENGINE" build --network=none -q -t "$noshell" -f "$T/scratch/Containerfile" \
	"$T/scratch" >"$T/noshell.log" 2>&1
is "$?" 0 "a FROM scratch image with only the binary and its config builds"
sc() {
	"$ENGINE" run --rm --network=none "$noshell" "$@" >"$T/sc.out" 2>"$T/sc.err"
	rc=$?
	out=$(cat "$T/sc.out")
}
sc
is "$rc" 0 "no shell: the default command (web) runs its child"
like "$out" '^entrypoint ' "and the child's output comes through"
sc task hello
is "$rc" 0 "no shell: a task runs"
sc run sh -c true
is "$rc" 127 "there is really no shell: run sh gives 127"
sc run /entrypoint.ini
is "$rc" 126 "a file that is not executable gives 126"
sc run /entrypoint bogus
is "$rc" 64 "the child's own exit code (64) comes out of $ENGINE run unchanged"
sc bogus
is "$rc" 64 "an unknown command is a usage error (64)"

done_testing
