#!/bin/bash
# t0510-completion: `entrypoint completion bash|zsh`, run by a real bash
# the way bash's programmable completion calls it (COMP_WORDS, COMP_CWORD,
# COMPREPLY), with task and process names from the config.
. "$SRCDIR/tests/sh/lib.sh"
cd "$T" || exit 1

write_ini "$T/entrypoint.ini" <<'INI'
[app]
require_env = NOT_SET_HERE

[process.web]
command = true

[process.scheduler]
command = true

[task.backfill-profiles]
command = true

[task.backup]
command = true
INI
write_ini "$T/other.ini" <<'INI'
[task.only-in-other]
command = true
INI

run_ep completion bash
is "$rc" 0 "completion bash exits 0"
printf '%s\n' "$out" >"$T/comp.bash"
ok "the script is valid bash" bash -n "$T/comp.bash"

# complete WORDS... : the candidates bash offers for the last word.
complete_words() {
	bash -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMPREPLY=()
		_entrypoint
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "
	' bash "$T/comp.bash" "$EP" "$@"
}

got=$(complete_words "")
like "$got" "(^| )migrate " "the first word completes commands"
like "$got" "(^| )completion " "every command of help"
like "$got" "(^| )scheduler " "and the configured processes"
is "$(complete_words mig)" "migrate " "a prefix completes to the command"
is "$(complete_words migrate st)" "status " "migrate completes subcommands"
is "$(complete_words migrate resolve 1 --)" "--applied --help --rolled-back " \
	"a subcommand completes its flags"
is "$(complete_words task back)" "backfill-profiles backup " \
	"task completes the configured task names"
is "$(complete_words task backup --d)" "--dry-run " "and then its flags"
is "$(complete_words -c "$T/other.ini" task o)" "only-in-other " \
	"-c FILE on the line is the config asked for the names"
is "$(complete_words history s)" "show " "history completes show"
is "$(complete_words check --)" "--help --json " "check completes --json"
is "$(complete_words completion "")" "--help bash zsh " \
	"completion completes the shells"

run_ep completion tasks
is "$out" "$(printf 'backfill-profiles\nbackup')" \
	"completion tasks lists the names without require_env"
run_ep completion processes
is "$out" "$(printf 'web\nscheduler')" "completion processes lists them"

run_ep completion zsh
is "$rc" 0 "completion zsh exits 0"
like "$out" "^#compdef entrypoint" "the zsh script is a #compdef file"
printf '%s\n' "$out" >"$T/comp.zsh"
# zsh: a real interactive zsh on a tmux pty, compinit, Tab pressed.
session=i14-comp-$$
zsh_screen() {
	tmux -L "$session" capture-pane -p -t "$session" 2>/dev/null
}
# zsh_tab TEXT WANT: type TEXT, press Tab, wait for WANT on the screen
# (tmux trims trailing blanks).
zsh_tab() {
	# shellcheck disable=SC2034  # read by the eval in wait_for
	want=$2
	tmux -L "$session" send-keys -t "$session" C-u "$1" Tab
	wait_for 20 eval 'zsh_screen | grep -qF -- "$want"'
}
if command -v zsh >/dev/null && command -v tmux >/dev/null; then
	ok "the zsh script is valid zsh" zsh -n "$T/comp.zsh"
	mkdir -p "$T/bin" "$T/zhome"
	ln -s "$EP" "$T/bin/entrypoint"
	cat >"$T/zhome/.zshrc" <<ZRC
PS1='zsh> '
autoload -Uz compinit && compinit -u -d "$T/zhome/.zcompdump"
source "$T/comp.zsh"
cd "$T"
ZRC
	tmux -L "$session" new-session -d -s "$session" -x 150 -y 40 \
		env -i HOME="$T/zhome" ZDOTDIR="$T/zhome" PATH="$T/bin:/usr/bin:/bin" \
		TERM=xterm zsh -i
	tmux_pid=$(tmux -L "$session" display-message -p -t "$session" '#{pane_pid}')
	track "$tmux_pid"
	ok "zsh starts with the completion loaded" wait_for 10 eval 'zsh_screen | grep -q "^zsh>"'
	ok "zsh: a command completes" zsh_tab "entrypoint mig" "entrypoint migrate"
	ok "zsh: a subcommand completes" zsh_tab "entrypoint migrate reso" \
		"entrypoint migrate resolve"
	ok "zsh: a configured task name completes" zsh_tab "entrypoint task backf" \
		"entrypoint task backfill-profiles"
	ok "zsh: a configured process name completes" zsh_tab "entrypoint sched" \
		"entrypoint scheduler"
	tmux -L "$session" kill-server 2>/dev/null
else
	skip "zsh or tmux not installed"
fi

run_ep completion fish
is "$rc" 64 "an unknown shell exits 64"
like "$err" 'unsupported shell "fish"' "and names it"
run_ep completion
is "$rc" 64 "completion without a shell exits 64"
run_ep completion bash extra
is "$rc" 64 "completion with an extra argument exits 64"

done_testing
