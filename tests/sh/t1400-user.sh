#!/bin/bash
# t1400-user: `user =` drops privileges before exec: uid, gid and the
# supplementary groups, by name or as uid:gid; an unknown user is a config
# error (78) and nothing runs.  As PID 1 and not.  Uses only `nobody` and
# numeric ids: nothing is created on the machine.
. "$SRCDIR/tests/sh/lib.sh"
. "$SRCDIR/tests/sh/lib-pid1.sh"
require_pidns
[ "$(id -u)" = 0 ] || skip_all "needs root to change users"
cd "$T" || exit 1

H=$HELPERS

# The regex for a /proc status id line's four equal values.
ids4() {
	local s='[[:space:]]+'
	echo "$s$1$s$1$s$1$s$1"
}

user_ini() {
	printf '[app]\nuser = %s\n' "$1" >"$T/user.ini"
}

nobody_uid=$(id -u nobody) nobody_gid=$(id -g nobody)
nobody_groups=$(id -G nobody | tr ' ' '\n' | sort -n | tr '\n' ' ')

for mode in $MODES; do
	user_ini nobody
	run_mode "$mode" -c "$T/user.ini" run "$H/sigprobe"
	is "$rc" 0 "$mode: user = nobody: the child ran"
	like "$out" "Uid:$(ids4 "$nobody_uid")\$" \
		"$mode: real, effective, saved and fs uid are nobody's"
	like "$out" "Gid:$(ids4 "$nobody_gid")\$" \
		"$mode: every gid is nobody's"
	groups=$(printf '%s\n' "$out" | sed -n 's/^Groups:[[:space:]]*//p' |
		tr ' ' '\n' | grep . | sort -n | tr '\n' ' ')
	is "$groups" "$nobody_groups" "$mode: nobody's groups, root's are gone"

	user_ini 4242:4343
	run_mode "$mode" -c "$T/user.ini" run "$H/sigprobe"
	is "$rc" 0 "$mode: user = 4242:4343: the child ran"
	like "$out" 'Uid:[[:space:]]+4242[[:space:]]+4242[[:space:]]+4242[[:space:]]+4242$' \
		"$mode: uid 4242"
	like "$out" 'Gid:[[:space:]]+4343[[:space:]]+4343[[:space:]]+4343[[:space:]]+4343$' \
		"$mode: gid 4343"
	like "$out" 'Groups:[[:space:]]*4343[[:space:]]*$' "$mode: groups: only 4343"

	for bad in no-such-user-here 4242 4242:no-such-group-here; do
		user_ini "$bad"
		rm -f "$T/ran"
		run_mode "$mode" -c "$T/user.ini" run touch "$T/ran"
		is "$rc" 78 "$mode: user = $bad -> 78"
		is "$(printf '%s\n' "$err" | grep -c .)" 1 \
			"$mode: user = $bad: one line"
		ok "$mode: user = $bad: nothing ran" test ! -e "$T/ran"
	done
done

done_testing
