#!/bin/bash
# t0960-qemu.sh - what `make check-qemu` runs the suites on: EP is a
# wrapper that starts the aarch64 release binary under qemu-user.  Without
# this check a wrapper that ran the x86_64 binary would pass every suite:
# here the binary is an aarch64 executable, the process that runs the
# child really is qemu's emulator, and `version` names this commit.  Also
# what differs under qemu-user: it refuses PR_SET_CHILD_SUBREAPER, so the
# binary warns and goes on (the exit code is still the child's).
# shellcheck source=tests/sh/lib.sh
. "$(dirname "$0")/lib.sh"

[ -n "${EP_QEMU:-}" ] || skip_all "not under qemu-user (make check-qemu sets EP_QEMU)"
cd "$T" || exit 1

bin=$(sed -n 's/^exec qemu-aarch64-static -0 "\$0" "\(.*\)" "\$@"$/\1/p' "$EP")
ok "EP is the qemu wrapper ($EP)" [ -n "$bin" ]
like "$(file -b "$bin")" 'ARM aarch64.*statically linked' \
	"it runs an aarch64 static binary"
run_ep version
is "$out" "entrypoint $(cat "$SRCDIR/VERSION") ($(git -C "$SRCDIR" rev-parse --short HEAD))" \
	"version names VERSION and this commit"
# The child's parent is the emulator running our binary.
# shellcheck disable=SC2016 # $PPID is the child shell's
run_ep run -- sh -c 'readlink /proc/$PPID/exe'
is "$rc" 0 "run starts a child"
like "$out" 'qemu-aarch64' "the child's parent process is qemu-aarch64 (emulated)"
like "$err" 'could not become a child subreaper' \
	"qemu-user refuses PR_SET_CHILD_SUBREAPER: the binary says so"
run_ep run -- sh -c 'exit 42'
is "$rc" 42 "and still passes the child's exit code through"

done_testing
