#!/bin/bash
# t3200-concurrent: 10 migrate processes started at once on an empty
# database with 50 migrations, among them a non-transactional CREATE INDEX
# CONCURRENTLY and one that inserts rows: all exit 0, each migration is
# applied exactly once, nobody deadlocks.  Several rounds.
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/pg/lib-pg.sh"
cd "$T" || exit 1

pg_start
mkdir migrations
printf 'CREATE TABLE items (id int, note text);\n' >migrations/001_items.sql
for i in $(seq 2 50); do
	n=$(printf '%03d' "$i")
	case $i in
	10)
		printf 'INSERT INTO items SELECT g, %s FROM generate_series(1, 5) g;\n' \
			"'x;y'" >"migrations/${n}_rows.sql" ;;
	20)
		# slow enough that the others are polling while CIC runs
		printf 'SELECT pg_sleep(0.3);\n' >"migrations/${n}_slow.sql" ;;
	21)
		printf -- '-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY items_id ON items (id);\n' \
			>"migrations/${n}_cic.sql" ;;
	*)
		printf 'CREATE TABLE t%s (x int);\n' "$i" >"migrations/${n}_t$i.sql" ;;
	esac
done

for round in 1 2 3; do
	db=round$round
	createdb "$db"
	cat >"r$round.ini" <<INI
[database]
url = $(pg_url "$db")
lock_timeout = 60s
INI
	pids=()
	for p in $(seq 1 10); do
		"$EP" -c "r$round.ini" migrate >"out.$round.$p" 2>&1 </dev/null &
		pids+=("$!")
		track "$!"
	done
	all_done() {
		local q
		for q in "${pids[@]}"; do
			kill -0 "$q" 2>/dev/null && return 1
		done
		return 0
	}
	ok "round $round: all 10 finish (no deadlock)" wait_for 60 all_done
	codes=""
	for q in "${pids[@]}"; do
		wait "$q"
		codes="$codes$? "
	done
	is "$codes" "0 0 0 0 0 0 0 0 0 0 " "round $round: all exit 0"
	is "$(psql_q -d "$db" 'SELECT count(*), count(DISTINCT version) FROM entrypoint.migrations')" \
		"50|50" "round $round: 50 migrations recorded once each"
	is "$(psql_q -d "$db" 'SELECT count(*) FROM items')" 5 \
		"round $round: the inserting migration ran exactly once"
	is "$(psql_q -d "$db" "SELECT indisvalid FROM pg_index WHERE indexrelid = 'items_id'::regclass")" \
		t "round $round: the concurrent index is valid"
	is "$(grep -h 'applied 0*[0-9]*_' out.$round.* | grep -c '^entrypoint: migrate: applied [0-9]')" \
		50 "round $round: 50 'applied' lines across the 10 processes"
	[ "$round" = 1 ] && like "$(cat out.1.*)" 'waiting for another migrate' \
		"waiters say they wait"
done

done_testing
