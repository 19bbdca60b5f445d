#!/bin/bash
# t4240-relay-syscalls: what copying a task's output costs entrypoint in
# system calls, counted with strace (a count, not a time: this machine is
# shared).  8 MiB through `task` into a pipe, as a log collector reads it:
#  - waitpid() only after a signal: not once per chunk of output;
#  - the child's pipe and our output pipe are asked for 1 MiB, so tee()
#    moves up to that much a call (8 MiB in far fewer than the 128 calls
#    of 64 KiB pipes); the bytes before the kept tail go to /dev/null with
#    splice(), never read;
# and the operator still gets every byte, the tail is still the last 64k.
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/pg/lib-pg.sh"
command -v strace >/dev/null || skip_all "no strace"
command -v python3 >/dev/null || skip_all "no python3"
[ "$(cat /proc/sys/fs/pipe-max-size 2>/dev/null || echo 0)" -ge 1048576 ] ||
	skip_all "pipe-max-size below 1 MiB"
cd "$T" || exit 1

pg_start
# 8 MiB of numbered lines: any byte lost or reordered shows.
seq -f '%015.0f' 1 524288 >big.txt
cat >t.ini <<INI
[database]
url = $DATABASE_URL
wait = 1s
[task.big]
command = cat $T/big.txt
INI

strace -c -o st.txt -e trace=wait4,tee,read,splice "$EP" -c t.ini task big 2>err.txt | cat >out.txt
ok "the operator got every byte, in order" cmp -s big.txt out.txt
calls() {
	awk -v s="$1" '$NF == s { print ($4 ~ /^[0-9]+$/ ? $4 : 0) } END {}' st.txt | head -n 1
}
nwait=$(calls wait4); ntee=$(calls tee); nsplice=$(calls splice)
: "${nwait:=0}" "${ntee:=0}" "${nsplice:=0}"
ok "waitpid only after signals: $nwait calls for 8 MiB" test "$nwait" -le 8
ok "tee() moved more than 64 KiB a call: $ntee calls for 8 MiB (128 at 64 KiB)" test "$ntee" -gt 0 -a "$ntee" -lt 128
ok "bytes before the tail were spliced to /dev/null: $nsplice calls" test "$nsplice" -gt 0

id=$(psql_q "SELECT id FROM entrypoint.runs WHERE task = 'big' ORDER BY started_at DESC LIMIT 1")
psql_q "SELECT encode(output, 'hex') FROM entrypoint.run_output WHERE run_id = '$id'" |
	python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))' >kept.txt
tail -c 65536 big.txt >want.txt
ok "the kept tail is still the last 64 KiB" cmp -s want.txt kept.txt
is "$(psql_q "SELECT output_bytes FROM entrypoint.run_output WHERE run_id = '$id'")" \
	"$(wc -c <big.txt)" "output_bytes counts the spliced bytes too"
done_testing
