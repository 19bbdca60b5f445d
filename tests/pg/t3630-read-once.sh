#!/bin/bash
# t3630-read-once: what a migrate with nothing to apply costs, seen from
# outside with strace: every migration file is opened once, whatever the
# folder's layout (the listing that detects the layout keeps what it read
# for the reader), and the server is asked in 4 round trips with the audit
# trail on (connect; lock and table check; applied list with the audit row
# and its output's row; the row's end with the output), 3 with audit = off.
# Round trips are counted as bench/migrate.sh counts every tool's: a send
# on the server's socket followed by a receive is one.
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/pg/lib-pg.sh"
. "$SRCDIR/tests/pg/lib-layouts.sh"
command -v strace >/dev/null || skip_all "strace not found (make deps)"
cd "$T" || exit 1
pg_start

N=8
LAYOUTS="dbmate golang-migrate goose sql-migrate flyway diesel prisma"

# traced DIR CMD...: run entrypoint under strace in DIR; the trace in
# $T/trace, the exit status in $rc
traced() {
	local d=$1
	shift
	(cd "$d" && strace -f -qq -o "$T/trace" -e signal=none \
		-e trace=open,openat,connect,close,read,write,writev,sendto,recvfrom,sendmsg,recvmsg \
		"$EP" "$@" >"$T/out" 2>"$T/err" </dev/null)
	rc=$?
}

# opens_per_file DIR: "name count" for every regular file under
# DIR/migrations that the last trace opened a number of times other than
# once ("" when each was opened exactly once).  An open names the file by
# its path ("migrations/NAME") or in the open folder (openat(FD, "NAME")).
opens_per_file() {
	local f name n
	(cd "$1/migrations" && find . -type f -name '*.sql' | sort) |
		while read -r f; do
			name=${f#./}
			n=$(awk -v a="\"migrations/$name\"" -v b=", \"$name\"" \
				'/^[0-9]+ +open(at)?\(/ && (index($0, a) || index($0, b)) { n++ }
				END { print n + 0 }' "$T/trace")
			[ "$n" = 1 ] || echo "migrations/$name $n"
		done
}

for l in $LAYOUTS; do
	d=$T/$l
	db=${l//-/_}
	mkdir -p "$d"
	write_chain "$l" "$d/migrations" "$N" "$d/ref"
	createdb "$db"
	printf '[database]\nurl = %s\nwait = 5s\n' "$(pg_url "$db")" >"$d/entrypoint.ini"
	(cd "$d" && "$EP" migrate >/dev/null 2>"$d/first.err")
	is "$?" 0 "$l: the chain applies"

	traced "$d" migrate
	is "$rc" 0 "$l: a no-op migrate under strace"
	like "$(cat "$T/err")" "nothing to apply" "$l: nothing to apply"
	is "$(opens_per_file "$d")" "" "$l: every migration file opened once"
done

# Round trips, in the dbmate folder (its audit tables are there now).
d=$T/dbmate
traced "$d" migrate
is "$rc" 0 "no-op migrate, audit on"
is "$(pg_roundtrips "$T/trace")" 4 \
	"4 round trips: connect, lock, list with the audit rows, end with the output"
is "$(psql -X -Atq -d dbmate -c "SELECT count(*) FROM entrypoint.runs WHERE status = 'running'")" 0 \
	"no audit row left running"

printf '[database]\nurl = %s\naudit = off\n' "$(pg_url dbmate)" >"$d/off.ini"
traced "$d" -c off.ini migrate
is "$rc" 0 "no-op migrate, audit off"
is "$(pg_roundtrips "$T/trace")" 3 "3 round trips: connect, lock, list"

# A file that changed between two runs is read anew (nothing is cached
# across runs): the no-op turns into the changed-file failure.
f=$(cd "$d/migrations" && find . -name '*.sql' | sort | head -n 1)
sed -i '1a SELECT 1;' "$d/migrations/$f"
traced "$d" migrate
is "$rc" 65 "a changed applied file: 65"
like "$(cat "$T/err")" "was changed" "says which changed"

done_testing
