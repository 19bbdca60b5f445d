#!/bin/sh
# dist.sh - `make dist`: the release artifacts in dist/, from the static
# binaries mk/static.mk and mk/dist.mk built:
#
#	sh scripts/dist.sh X86_64_BINARY AARCH64_BINARY
#
#   entrypoint-VERSION-x86_64-linux-musl     the static binaries, stripped
#   entrypoint-VERSION-aarch64-linux-musl
#   entrypoint_VERSION_amd64.deb             /usr/bin/entrypoint, its
#   entrypoint_VERSION_arm64.deb             licenses, the man page and the
#                                            shell link if any
#   SHA256SUMS                               `sha256sum -c SHA256SUMS`
#
# Each binary is checked before it is shipped: static, stripped, of its
# architecture, and `entrypoint version` (run natively, or under
# qemu-aarch64-static) says VERSION and the commit.  The licenses of what
# is linked in (OpenSSL, libpq, inih, musl) are gathered from the sources
# and Debian packages they were built from (build/dist/ARCH/LICENSE, also
# used by scripts/dist-image.sh).  File times are the commit's
# (SOURCE_DATE_EPOCH), so the same commit gives the same .debs.
#
# Environment: EP_VERSION, EP_COMMIT (from the Makefile), EP_MAN (a man
# page to package, optional), EP_SHELL_LINK (non-empty: /usr/bin/shell, a
# link to entrypoint, which is then multi-call), EP_MAINTAINER (the .deb's Maintainer field,
# default the commit's author), DIST (default dist).
set -eu

cd "$(dirname "$0")/.."
DIST=${DIST:-dist}
STAGE=build/dist
VERSION=${EP_VERSION:-$(cat VERSION)}
COMMIT=${EP_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
MAN=${EP_MAN:-}
SHELL_LINK=${EP_SHELL_LINK:-}
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || echo 0)
fi
export SOURCE_DATE_EPOCH
MAINTAINER=${EP_MAINTAINER:-$(git log -1 --format='%an <%ae>' 2>/dev/null ||
	true)}
[ -n "$MAINTAINER" ] || MAINTAINER="entrypoint maintainers <root@localhost>"

die() {
	printf 'dist: %s\n' "$*" >&2
	exit 1
}

[ $# -eq 2 ] || die "usage: dist.sh X86_64_BINARY AARCH64_BINARY"
case $VERSION in
[0-9]*.[0-9]*.[0-9]*) ;;
*) die "VERSION \"$VERSION\" is not MAJOR.MINOR.PATCH" ;;
esac

# check_binary FILE ARCH: static, stripped, for ARCH, with our version.
check_binary() {
	_f=$1
	[ -x "$_f" ] || die "\"$_f\" not found or not executable"
	_desc=$(file -b "$_f")
	case $2 in
	x86_64) _want='x86-64' _run= ;;
	aarch64) _want='ARM aarch64' _run=qemu-aarch64-static ;;
	esac
	case $_desc in
	*"$_want"*"statically linked"*"stripped"*) ;;
	*) die "\"$_f\" is not a static stripped $2 executable: $_desc" ;;
	esac
	case $_desc in
	*"not stripped"*) die "\"$_f\" is not stripped" ;;
	esac
	if [ -n "$_run" ] && ! command -v "$_run" >/dev/null 2>&1; then
		die "$_run not found: run make deps (qemu-user-static)"
	fi
	_v=$($_run "$_f" version) || die "\"$_f version\" failed"
	[ "$_v" = "entrypoint $VERSION ($COMMIT)" ] ||
		die "\"$_f version\" says \"$_v\", not \"entrypoint $VERSION ($COMMIT)\" (make clean?)"
}

# src_dir CACHE PKG: the source tree static-deps.sh built PKG from
src_dir() {
	_s=$(cat "$1/stamp/$2.src" 2>/dev/null) || _s=
	if [ -z "$_s" ] || [ ! -d "$_s" ]; then
		die "no $2 source in $1 (make static / make static-aarch64)"
	fi
	printf '%s\n' "$_s"
}

# license ARCH CACHE: the license text of the ARCH binary, to stdout
license() {
	_ossl=$(src_dir "$2" openssl)
	_pg=$(src_dir "$2" postgresql-15)
	printf 'entrypoint %s (%s), %s-linux-musl, static binary\n\n' \
		"$VERSION" "$COMMIT" "$1"
	for _l in LICENSE LICENSE.md LICENSE.txt COPYING; do
		if [ -f "$_l" ]; then
			printf '== entrypoint ==\n\n'
			cat "$_l"
			printf '\n'
			break
		fi
	done
	printf 'The binary is statically linked with the libraries below,\n'
	printf 'each under its own license.\n\n'
	printf '== OpenSSL (Debian source package %s) ==\n\n' \
		"$(basename "$_ossl" | sed 's/^openssl-//')"
	cat "$_ossl/LICENSE.txt"
	printf '\n== libpq, PostgreSQL (Debian source package %s) ==\n\n' \
		"$(basename "$_pg")"
	cat "$_pg/COPYRIGHT"
	printf '\n== inih (Debian package libinih-dev) ==\n\n'
	cat /usr/share/doc/libinih-dev/copyright
	printf '\n== musl libc (Debian package musl-dev) ==\n\n'
	cat /usr/share/doc/musl-dev/copyright
}

# deb ARCH DEBARCH BINARY: build $STAGE/entrypoint_VERSION_DEBARCH.deb
deb() {
	_root=$STAGE/$1/deb
	rm -rf "$_root"
	mkdir -p "$_root/DEBIAN" "$_root/usr/bin" \
		"$_root/usr/share/doc/entrypoint"
	install -m 0755 "$3" "$_root/usr/bin/entrypoint"
	if [ -n "$SHELL_LINK" ]; then
		ln -s entrypoint "$_root/usr/bin/shell"
	fi
	install -m 0644 "$STAGE/$1/LICENSE" \
		"$_root/usr/share/doc/entrypoint/copyright"
	if [ -n "$MAN" ]; then
		[ -f "$MAN" ] || die "man page \"$MAN\" not found"
		mkdir -p "$_root/usr/share/man/man1"
		gzip -9n <"$MAN" >"$_root/usr/share/man/man1/entrypoint.1.gz"
		chmod 0644 "$_root/usr/share/man/man1/entrypoint.1.gz"
	fi
	_kib=$(du -sk --exclude=DEBIAN "$_root" | cut -f1)
	cat >"$_root/DEBIAN/control" <<-EOF
	Package: entrypoint
	Version: $VERSION
	Architecture: $2
	Maintainer: $MAINTAINER
	Installed-Size: $_kib
	Section: admin
	Priority: optional
	Description: PID 1 and one-off command runner for app containers
	 A static binary that is the ENTRYPOINT and PID 1 of an application's
	 container image: it runs web, worker, migrate, task, shell and run
	 with the same config and environment, forwards signals, reaps
	 zombies, applies SQL migrations through libpq and keeps an audit
	 trail of one-off runs in the app's PostgreSQL.
	 .
	 Statically linked (musl, OpenSSL, libpq): it depends on nothing.
	EOF
	find "$_root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
	dpkg-deb --root-owner-group -Zxz --build "$_root" \
		"$STAGE/entrypoint_${VERSION}_$2.deb" >/dev/null ||
		die "dpkg-deb failed for $2"
}

X86=$1
A64=$2
check_binary "$X86" x86_64
check_binary "$A64" aarch64
mkdir -p "$STAGE/x86_64" "$STAGE/aarch64"
license x86_64 .cache/static >"$STAGE/x86_64/LICENSE"
license aarch64 .cache/static-aarch64 >"$STAGE/aarch64/LICENSE"
[ -f LICENSE ] || [ -f COPYING ] ||
	printf 'dist: warning: no LICENSE file in the source tree: %s\n' \
		"the artifacts carry only the bundled libraries' licenses" >&2
install -m 0755 "$X86" "$STAGE/x86_64/entrypoint"
install -m 0755 "$A64" "$STAGE/aarch64/entrypoint"
deb x86_64 amd64 "$X86"
deb aarch64 arm64 "$A64"

# dist/ holds this version's artifacts and nothing else.
tmp=$DIST.tmp
rm -rf "$tmp"
mkdir -p "$tmp"
install -m 0755 "$X86" "$tmp/entrypoint-$VERSION-x86_64-linux-musl"
install -m 0755 "$A64" "$tmp/entrypoint-$VERSION-aarch64-linux-musl"
cp "$STAGE/entrypoint_${VERSION}_amd64.deb" \
	"$STAGE/entrypoint_${VERSION}_arm64.deb" "$tmp/"
(cd "$tmp" && sha256sum "entrypoint-$VERSION-x86_64-linux-musl" \
	"entrypoint-$VERSION-aarch64-linux-musl" \
	"entrypoint_${VERSION}_amd64.deb" "entrypoint_${VERSION}_arm64.deb" \
	>SHA256SUMS)
touch -d "@$SOURCE_DATE_EPOCH" "$tmp"/*
rm -rf "$DIST"
mv "$tmp" "$DIST"
printf 'dist: %s\n' "$DIST"/*
