#!/bin/bash
# t2000-config: config errors end to end through the binary.  Each class of
# error exits 78 with one line on stderr naming file:line, the key and the
# reason, prints nothing on stdout and runs nothing.
. "$SRCDIR/tests/sh/lib.sh"
cd "$T" || exit 1

# A clean environment: the caller's *_FILE or ENTRYPOINT_* must not leak in.
ep() {
	env -i PATH="$PATH" HOME="$T" "$@"
}

# bad NAME WANT_REGEX [ENV=VALUE...] < ini : `run touch $T/ran` with the
# ini exits 78 with one line matching WANT_REGEX, prints nothing on stdout
# and never runs the command.
bad() {
	local name=$1 want=$2 o e lines
	shift 2
	cat >"$T/bad.ini"
	rm -f "$T/ran"
	o=$T/.bad.out
	e=$T/.bad.err
	ep "$@" "$EP" -c "$T/bad.ini" run touch "$T/ran" >"$o" 2>"$e" </dev/null
	rc=$?
	lines=$(wc -l <"$e")
	if [ "$rc" -eq 78 ] && [ "$lines" -eq 1 ] && [ ! -s "$o" ] &&
		[ ! -e "$T/ran" ] && grep -Eq -- "$want" "$e"; then
		pass "$name"
	else
		fail "$name" "rc=$rc (want 78), $lines stderr lines" \
			"stderr: $(cat "$e")" "stdout: $(head -c 200 "$o")" \
			"want: /$want/"
	fi
}

printf 'A=1\nnot a pair\n' >"$T/broken.env"
printf 'secret\n' >"$T/pw"

bad "unknown section" \
	'^entrypoint: run: .*/bad\.ini:2: unrecognized section \[aap\] \(did you mean \[app\]\?\)$' <<'INI'
; comment
[aap]
name = x
INI

bad "unknown key, with a suggestion" \
	'/bad\.ini:3: unrecognized key "comand" in section \[process\.web\] \(did you mean "command"\?\)$' <<'INI'
[process.web]
command = touch ran
comand = touch ran
INI

bad "key outside any section" \
	'/bad\.ini:1: key "name" outside of any section$' <<'INI'
name = x
INI

bad "syntax error" \
	'/bad\.ini:2: syntax error: expected "key = value"' <<'INI'
[app]
just some words
INI

bad "unterminated section header" \
	'/bad\.ini:1: unterminated section header' <<'INI'
[task.x
INI

bad "duplicate section" \
	'/bad\.ini:5: duplicate section \[task\.x\] \(first at line 1\)$' <<'INI'
[task.x]
command = true

; again
[task.x]
command = true
INI

bad "duplicate key" \
	'/bad\.ini:3: duplicate key "command" in section \[task\.x\] \(first at line 2\)$' <<'INI'
[task.x]
command = true
command = false
INI

bad "task name longer than 49 bytes (inih would cut it)" \
	'/bad\.ini:1: task name too long in section \[task\.a{50}\]: at most 49 bytes$' <<'INI'
[task.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]
command = true
INI

bad "invalid task name" \
	'/bad\.ini:1: invalid task name "a/b": use letters, digits' <<'INI'
[task.a/b]
command = true
INI

bad "missing command" \
	'/bad\.ini:2: missing key "command" in section \[process\.web\]$' <<'INI'

[process.web]
stop_signal = TERM
INI

bad "invalid duration" \
	'/bad\.ini:2: invalid stop_timeout "ten" in section \[app\]: expected a duration' <<'INI'
[app]
stop_timeout = ten
INI

bad "invalid yes/no" \
	'/bad\.ini:3: invalid exclusive "sometimes" in section \[task\.x\]: expected yes or no$' <<'INI'
[task.x]
command = true
exclusive = sometimes
INI

bad "invalid signal" \
	'/bad\.ini:3: invalid stop_signal "SIGFOO" in section \[process\.web\]: expected a signal name' <<'INI'
[process.web]
command = touch ran
stop_signal = SIGFOO
INI

bad "invalid dry_run" \
	'/bad\.ini:3: invalid dry_run "yes" in section \[task\.x\]: expected env, unsupported or flag:ARG$' <<'INI'
[task.x]
command = true
dry_run = yes
INI

bad "invalid require_migrations" \
	'/bad\.ini:3: invalid require_migrations "maybe" in section \[process\.web\]' <<'INI'
[process.web]
command = touch ran
require_migrations = maybe
INI

bad "invalid audit" \
	'/bad\.ini:2: invalid audit "sometimes" in section \[database\]: expected required, best-effort or off$' <<'INI'
[database]
audit = sometimes
INI

bad "invalid log_format" \
	'/bad\.ini:2: invalid log_format "yaml" in section \[app\]: expected text or json$' <<'INI'
[app]
log_format = yaml
INI

bad "unterminated quote (an inline ; comment inside quotes)" \
	'/bad\.ini:2: invalid command in section \[task\.x\]: unterminated quote \(a ";" after a blank starts a comment\)$' <<'INI'
[task.x]
command = sh -c 'touch ran ; true'
INI

bad "bad \${...}" \
	'/bad\.ini:2: invalid value of "PORT" in section \[env\]: unterminated \$\{$' <<'INI'
[env]
PORT = ${HTTP_PORT:-8080
INI

bad "missing env_file" \
	'/bad\.ini:2: could not read env_file ".*/nope\.env": No such file or directory$' <<INI
[app]
env_file = $T/nope.env
INI

bad "bad env_file line" \
	'/broken\.env:2: invalid line in env_file: expected NAME=VALUE$' <<INI
[app]
env_file = $T/broken.env
INI

bad "missing release_file" \
	'/bad\.ini:2: could not read release_file "/nonexistent/RELEASE"' <<'INI'
[app]
release_file = /nonexistent/RELEASE
INI

bad "require_env names every missing variable" \
	'/bad\.ini:2: missing required environment variables \(require_env\): DATABASE_URL SECRET_KEY$' <<'INI'
[app]
require_env = DATABASE_URL HOME SECRET_KEY
INI

bad "X and X_FILE both set" \
	'^entrypoint: run: DB_PASSWORD and DB_PASSWORD_FILE are both set: set only one$' \
	DB_PASSWORD=inline DB_PASSWORD_FILE="$T/pw" <<'INI'
[app]
INI

bad "unreadable secret file" \
	'could not read API_TOKEN_FILE "/nonexistent/token": No such file or directory$' \
	API_TOKEN_FILE=/nonexistent/token <<'INI'
[app]
INI

# A missing file named by -c or $ENTRYPOINT_CONFIG is an error (78) too.
ep "$EP" -c "$T/missing.ini" env >"$T/o" 2>"$T/e"
is "$?" 78 "-c with a missing file exits 78"
like "$(cat "$T/e")" 'could not read config file ".*/missing\.ini": No such file or directory$' \
	"and says which file"
ep ENTRYPOINT_CONFIG="$T/missing.ini" "$EP" env >"$T/o" 2>"$T/e"
is "$?" 78 "\$ENTRYPOINT_CONFIG with a missing file exits 78"

# The good cases: the same binary accepts a real config and a long line.
{
	printf '[app]\nname = ok\nrequire_env = HOME\n[process.web]\ncommand = echo'
	for _ in $(seq 300); do printf ' word'; done
	printf '\n[task.x]\ncommand = sh -c '\''echo a;echo b'\'' ; comment\n'
	printf 'dry_run = flag:--dry-run\n'
} >"$T/good.ini"
ep "$EP" -c "$T/good.ini" env >"$T/o" 2>"$T/e"
is "$?" 0 "a valid config with a 1500-byte line loads"
# (Under qemu-user, EP_QEMU, but qemu's refusal of PR_SET_CHILD_SUBREAPER.)
if [ -n "${EP_QEMU:-}" ]; then
	sed -i '/could not become a child subreaper/d' "$T/e"
fi
is "$(cat "$T/e")" "" "with nothing on stderr"
ep "$EP" -c "$T/good.ini" task x >"$T/o" 2>"$T/e"
is "$(cat "$T/o")" "a
b" "';' without a blank before it stays in the command"

# No ./entrypoint.ini: the defaults, not an error.
mkdir "$T/empty"
(cd "$T/empty" && ep "$EP" env >/dev/null 2>"$T/e")
is "$?" 0 "no ./entrypoint.ini gives the defaults"

done_testing
