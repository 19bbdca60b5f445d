#!/bin/bash
# t0950-dist.sh - `make dist`'s artifacts in dist/ (DIST): exactly the two
# static binaries, a .deb per architecture and SHA256SUMS; the checksums
# verify and catch a changed byte; each binary is static, stripped, of its
# architecture, with VERSION and the commit in `entrypoint version` (the
# aarch64 one under qemu-aarch64-static); each .deb is what dpkg expects
# and installs /usr/bin/entrypoint (into a scratch dpkg root) that runs and
# is removed again.  Then, from a fresh clone, `make dist` builds it all
# and, after one more commit, carries the new commit in every binary.
# shellcheck source=tests/sh/lib.sh
. "$(dirname "$0")/lib.sh"

DIST=${DIST:-$SRCDIR/dist}
[ -f "$DIST/SHA256SUMS" ] || skip_all "no $DIST/SHA256SUMS: run make dist"
command -v dpkg-deb >/dev/null || skip_all "no dpkg-deb"
V=$(cat "$SRCDIR/VERSION")
C=$(git -C "$SRCDIR" rev-parse --short HEAD)
X86=entrypoint-$V-x86_64-linux-musl
A64=entrypoint-$V-aarch64-linux-musl
DEB_X86=entrypoint_${V}_amd64.deb
DEB_A64=entrypoint_${V}_arm64.deb
QEMU=qemu-aarch64-static

is "$(find "$DIST" -mindepth 1 -printf "%f\n" | LC_ALL=C sort | tr "\n" " ")" \
	"$(printf '%s\n' SHA256SUMS "$X86" "$A64" "$DEB_X86" "$DEB_A64" |
		LC_ALL=C sort | tr '\n' ' ')" \
	"dist/ holds both binaries, both .debs and SHA256SUMS, nothing else"

# --- checksums -----------------------------------------------------------
is "$(awk '{ print $2 }' "$DIST/SHA256SUMS" | sort | tr '\n' ' ')" \
	"$(printf '%s\n' "$X86" "$A64" "$DEB_X86" "$DEB_A64" | sort |
		tr '\n' ' ')" "SHA256SUMS names the four artifacts"
ok "sha256sum -c SHA256SUMS passes" \
	bash -c "cd '$DIST' && sha256sum --quiet --strict -c SHA256SUMS"
mkdir "$T/bad"
cp "$DIST"/* "$T/bad/"
printf 'tampered' | dd of="$T/bad/$A64" bs=1 seek=1000 conv=notrunc 2>/dev/null
(cd "$T/bad" && sha256sum --quiet -c SHA256SUMS) >"$T/sum.out" 2>&1
ok "a changed byte in a binary fails the check" [ $? -ne 0 ]
like "$(cat "$T/sum.out")" "$A64: FAILED" "and the check names the file"

# --- the binaries ----------------------------------------------------------
MAX_SIZE=3355443	# 3.2 MB, as t0900 for the x86_64 build
for pair in "$X86:x86-64" "$A64:ARM aarch64"; do
	f=${pair%%:*}
	arch=${pair#*:}
	d=$(file -b "$DIST/$f")
	like "$d" "$arch" "$f is an $arch executable"
	like "$d" 'statically linked' "$f is static"
	unlike "$d" 'not stripped|interpreter' "$f is stripped, no loader"
	size=$(stat -c %s "$DIST/$f")
	ok "$f: $size bytes <= $MAX_SIZE" [ "$size" -le "$MAX_SIZE" ]
	ok "$f has TLS (libssl and libpq's OpenSSL code)" \
		bash -c "grep -aq 'TLSv1\.3' '$DIST/$f' &&
			grep -aq 'SSL SYSCALL error' '$DIST/$f'"
done
is "$("$DIST/$X86" version)" "entrypoint $V ($C)" \
	"the x86_64 binary says VERSION and the commit"
if command -v "$QEMU" >/dev/null; then
	is "$("$QEMU" "$DIST/$A64" version)" "entrypoint $V ($C)" \
		"the aarch64 binary (under qemu-user) says VERSION and the commit"
	# (in $T: no entrypoint.ini there, the defaults)
	(cd "$T" && "$QEMU" "$DIST/$A64" run -- sh -c 'exit 7') >/dev/null 2>&1
	is "$?" 7 "the aarch64 binary runs a child and passes its code through"
else
	skip "aarch64 binary: no $QEMU (make deps)"
	skip "aarch64 binary: no $QEMU (make deps)"
fi

# --- the .debs -------------------------------------------------------------
for pair in "$DEB_X86:amd64:$X86" "$DEB_A64:arm64:$A64"; do
	IFS=: read -r deb arch bin <<<"$pair"
	f="$DIST/$deb"
	is "$(dpkg-deb -f "$f" Package Version Architecture | tr '\n' ' ')" \
		"Package: entrypoint Version: $V Architecture: $arch " \
		"$deb: package, version and architecture"
	dpkg-deb -f "$f" Depends Pre-Depends >"$T/deps" 2>&1
	is "$(cat "$T/deps")" "" "$deb depends on nothing (static)"
	dpkg-deb -c "$f" >"$T/contents"
	like "$(cat "$T/contents")" \
		'^-rwxr-xr-x root/root +[0-9]+ [0-9-]+ [0-9:]+ \./usr/bin/entrypoint$' \
		"$deb: /usr/bin/entrypoint, 0755, owned by root"
	like "$(cat "$T/contents")" '\./usr/share/doc/entrypoint/copyright$' \
		"$deb: the license in /usr/share/doc/entrypoint/copyright"
	rm -rf "$T/x"
	dpkg-deb -x "$f" "$T/x"
	ok "$deb: /usr/bin/entrypoint is dist/$bin" \
		cmp -s "$T/x/usr/bin/entrypoint" "$DIST/$bin"
	cr=$(cat "$T/x/usr/share/doc/entrypoint/copyright")
	like "$cr" "^entrypoint $V \\($C\\)" "$deb: the license file names the release"
	for lib in 'OpenSSL' 'PostgreSQL' 'inih' 'musl'; do
		like "$cr" "== .*$lib" "$deb: the license file covers $lib"
	done
	like "$cr" 'Apache License' "$deb: OpenSSL's license text is in it"
	if [ -n "${EP_MAN:-}" ] && [ -f "$EP_MAN" ]; then
		like "$(cat "$T/contents")" 'usr/share/man/man1/entrypoint\.1\.gz$' \
			"$deb: the man page"
		ok "$deb: the man page is $EP_MAN" \
			bash -c "gzip -dc '$T/x/usr/share/man/man1/entrypoint.1.gz' |
				cmp -s - '$EP_MAN'"
	fi
	if [ -n "${EP_SHELL_LINK:-}" ]; then
		is "$(readlink "$T/x/usr/bin/shell")" entrypoint \
			"$deb: /usr/bin/shell links to entrypoint"
	fi
done

# Install the amd64 package for real into a scratch root (its own dpkg
# database), run it, remove it.
if [ "$(dpkg --print-architecture)" = amd64 ]; then
	R=$T/root
	mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates"
	: >"$R/var/lib/dpkg/status"
	dpkg --root="$R" --force-not-root --log=/dev/null -i \
		"$DIST/$DEB_X86" >"$T/dpkg.out" 2>&1
	r=$?
	is "$r" 0 "dpkg -i installs $DEB_X86"
	[ "$r" = 0 ] || sed 's/^/# /' "$T/dpkg.out"
	is "$(dpkg --root="$R" -s entrypoint 2>/dev/null |
		sed -n 's/^Status: //p')" "install ok installed" \
		"dpkg knows it as installed"
	is "$("$R/usr/bin/entrypoint" version)" "entrypoint $V ($C)" \
		"the installed /usr/bin/entrypoint runs"
	dpkg --root="$R" --force-not-root --log=/dev/null -r entrypoint \
		>"$T/dpkg.out" 2>&1
	ok "dpkg -r removes it" [ ! -e "$R/usr/bin/entrypoint" ]
	dpkg --root="$R" --force-not-root --log=/dev/null -i \
		"$DIST/$DEB_A64" >"$T/dpkg.out" 2>&1
	ok "dpkg refuses the arm64 package on amd64" [ $? -ne 0 ]
	like "$(cat "$T/dpkg.out")" 'architecture \(arm64\) does not match' \
		"and says why"
else
	skip "dpkg -i: not an amd64 machine"
fi

# --- from a fresh clone ----------------------------------------------------
# A clone of HEAD builds dist/ with the caches of this tree (the static
# dependencies are built once per machine), and one more commit is in
# every binary of the next `make dist`.
if [ -d "$SRCDIR/.cache/static/prefix" ] &&
	[ -d "$SRCDIR/.cache/static-aarch64/prefix" ] && command -v "$QEMU" >/dev/null; then
	# As a user would run it: none of the suite's variables (BUILD, EP,
	# MAKEFLAGS of a `make check-dist` around this test) reach that make.
	clean_make() {
		env -i PATH="$PATH" HOME="$HOME" LC_ALL=C make "$@"
	}
	git clone -q "$SRCDIR" "$T/clone" 2>"$T/clone.err"
	mkdir "$T/clone/.cache"
	ln -s "$(readlink -f "$SRCDIR/.cache/static")" "$T/clone/.cache/static"
	ln -s "$(readlink -f "$SRCDIR/.cache/static-aarch64")" \
		"$T/clone/.cache/static-aarch64"
	clean_make -C "$T/clone" dist >"$T/make.log" 2>&1
	r=$?
	is "$r" 0 "make dist in a fresh clone"
	[ "$r" = 0 ] || tail -n 20 "$T/make.log" | sed 's/^/# /'
	c1=$(git -C "$T/clone" rev-parse --short HEAD)
	is "$("$T/clone/dist/$X86" version)" "entrypoint $V ($c1)" \
		"the clone's x86_64 binary has the clone's commit"
	git -C "$T/clone" -c user.name=t -c user.email=t@localhost \
		commit -q --allow-empty -m "t0950: one more commit"
	c2=$(git -C "$T/clone" rev-parse --short HEAD)
	clean_make -C "$T/clone" dist >"$T/make.log" 2>&1
	r=$?
	is "$r" 0 "make dist after one more commit"
	[ "$r" = 0 ] || tail -n 20 "$T/make.log" | sed 's/^/# /'
	is "$("$T/clone/dist/$X86" version)" "entrypoint $V ($c2)" \
		"the x86_64 binary carries the new commit"
	is "$("$QEMU" "$T/clone/dist/$A64" version)" "entrypoint $V ($c2)" \
		"the aarch64 binary carries the new commit"
	ok "SHA256SUMS of the new build verifies" \
		bash -c "cd '$T/clone/dist' && sha256sum --quiet --strict -c SHA256SUMS"
else
	skip "fresh clone: no .cache/static and .cache/static-aarch64 or no $QEMU"
fi

done_testing
