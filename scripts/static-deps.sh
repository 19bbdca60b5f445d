#!/bin/sh
# static-deps.sh CACHE [ARCH] - build the static dependencies of
# build/entrypoint-static (ARCH: this machine's, with musl-gcc; x86_64 or
# aarch64) or of build/aarch64/entrypoint-static (ARCH aarch64 on x86_64:
# cross-compiled with Debian's aarch64-linux-gnu-gcc and the arm64 musl of
# musl-dev:arm64) into CACHE/prefix/{include,lib}:
#   OpenSSL   from Debian's openssl source package (libssl.a libcrypto.a)
#   libpq     from Debian's postgresql-15 source package
#             (libpq.a libpgcommon.a libpgport.a, TLS through OpenSSL)
#   inih      Debian's libinih.a (libinih-dev, or libinih-dev:arm64) and
#             ini.h, copied (musl-gcc does not search /usr/include)
# Each ARCH needs its own CACHE (mk/static.mk: .cache/static, mk/dist.mk:
# .cache/static-aarch64).
#
# mk/static.mk runs it with an empty environment (env -i), so that none of
# our make variables nor MAKEFLAGS reach the sub-makes.  Every step leaves a
# stamp file holding what it was built from (source version and options): a
# step whose stamp matches is skipped, so a second run does nothing.  Output
# of each step goes to CACHE/log/STEP.log; on failure its tail is printed.
#
# Needs a deb-src entry for `apt-get source` (scripts/deps.sh adds it).
set -eu

CACHE=${1:?usage: static-deps.sh CACHE_DIR [x86_64|aarch64]}
ARCH=${2:-$(uname -m)}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
SRC=$CACHE/src
PREFIX=$CACHE/prefix
STAMPS=$CACHE/stamp
LOGS=$CACHE/log
JOBS=$(nproc 2>/dev/null || echo 2)
# Small code, dead sections removable at link time, hardened like our own.
DEP_CFLAGS="-Os -ffunction-sections -fdata-sections -fstack-protector-strong"
HOST=$(uname -m)
case $ARCH in
x86_64)
	OSSL_TARGET=linux-x86_64
	INIH_LIB=/usr/lib/x86_64-linux-gnu/libinih.a
	;;
aarch64)
	# Without -mno-outline-atomics, gcc calls libgcc's outline atomics,
	# whose initializer needs glibc's __getauxval: every musl link fails.
	DEP_CFLAGS="$DEP_CFLAGS -mno-outline-atomics"
	OSSL_TARGET=linux-aarch64
	INIH_LIB=/usr/lib/aarch64-linux-gnu/libinih.a
	;;
*)
	echo "static-deps: unrecognized architecture \"$ARCH\" (x86_64 or aarch64)" >&2
	exit 64
	;;
esac
CC=musl-gcc
PG_HOST=
TOOLS=
if [ "$ARCH" != "$HOST" ]; then
	if [ "$ARCH" != aarch64 ] || [ "$HOST" != x86_64 ]; then
		echo "static-deps: cannot build for $ARCH on $HOST" >&2
		exit 64
	fi
	# Debian's cross gcc with the specs file of the arm64 musl
	# (musl-dev:arm64) in place of glibc, and the archiver that writes an
	# arm64 symbol index (libpq's configure finds it through --host;
	# OpenSSL is told).
	CC="aarch64-linux-gnu-gcc -specs /usr/lib/aarch64-linux-musl/musl-gcc.specs"
	PG_HOST=aarch64-linux-gnu
	TOOLS="AR=aarch64-linux-gnu-ar RANLIB=aarch64-linux-gnu-ranlib"
fi

# OpenSSL, only what a TLS client needs: the algorithms a PostgreSQL server
# may negotiate stay (AES, ChaCha20, SHA-2, RSA, EC/X25519, DH), the rest go,
# which keeps the binary under 3.2 MB.  no-secure-memory: its implementation
# includes kernel headers musl does not ship.
OSSL_OPTS="$OSSL_TARGET no-shared no-tests no-engine no-dso no-module
no-secure-memory no-async no-afalgeng no-comp no-legacy no-ssl3
no-weak-ssl-ciphers no-srp no-ui-console
no-aria no-bf no-blake2 no-camellia no-cast no-cmp no-cms no-ct no-dsa
no-dtls no-ec2m no-gost no-idea no-md4 no-mdc2 no-ocb no-rc2 no-rc4
no-rmd160 no-scrypt no-seed no-siphash no-siv no-sm2 no-sm3 no-sm4 no-srtp
no-ts no-whirlpool no-nextprotoneg no-rfc3779 no-ssl-trace no-ocsp"
# libpq: the client library only, no optional dependency but OpenSSL.
PG_OPTS="--with-ssl=openssl --without-readline --without-zlib --without-icu
--without-gssapi --without-ldap --without-lz4 --without-zstd --disable-nls"

mkdir -p "$SRC" "$PREFIX/include" "$PREFIX/lib" "$STAMPS" "$LOGS"
# Two makes at once (a test run and a developer) build the cache once.
if command -v flock >/dev/null; then
	exec 9>"$CACHE/.lock"
	flock 9
fi
changed=0

say() {
	echo "static-deps: $*"
}

die() {
	echo "static-deps: $*" >&2
	exit 1
}

# stamp_ok NAME CONTENT: the step NAME was done from CONTENT already
stamp_ok() {
	[ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]
}

stamp_set() {
	printf '%s\n' "$2" >"$STAMPS/$1"
}

# run LOG CMD...: run CMD with its output in LOG; on failure show the tail
run() {
	_log=$LOGS/$1
	shift
	if ! "$@" >>"$_log" 2>&1; then
		tail -n 40 "$_log" >&2
		die "failed: $* (full log: $_log)"
	fi
}

# fetch PKG: unpack Debian's source package PKG (Debian patches applied)
# under $SRC and print its directory.  Tries the newest version first and
# falls back to older ones: a security update's source can lag behind its
# index on some mirrors.
fetch() {
	_pkg=$1
	if [ -f "$STAMPS/$_pkg.src" ]; then
		_dir=$(cat "$STAMPS/$_pkg.src")
		if [ -d "$_dir" ]; then
			echo "$_dir"
			return 0
		fi
	fi
	_versions=$(apt-cache showsrc "$_pkg" 2>/dev/null |
		awk -v p="$_pkg" '$1 == "Package:" { ok = ($2 == p) }
			ok && $1 == "Version:" { print $2 }' | sort -u -r -V)
	[ -n "$_versions" ] || die "no source package $_pkg known to apt:" \
		"run 'make deps' (it adds the deb-src entry)"
	for _v in $_versions; do
		_tmp=$SRC/.fetch-$_pkg
		rm -rf "$_tmp"
		mkdir -p "$_tmp"
		# apt drops to user _apt for downloads: let it write here.
		chmod 777 "$_tmp"
		say "fetching source $_pkg=$_v" >&2
		if (cd "$_tmp" && apt-get source -qq --download-only \
			"$_pkg=$_v") >>"$LOGS/fetch-$_pkg.log" 2>&1; then
			(cd "$_tmp" && dpkg-source -x ./*.dsc src) \
				>>"$LOGS/fetch-$_pkg.log" 2>&1 ||
				die "could not unpack $_pkg=$_v"
			_dir=$SRC/$_pkg-$_v
			rm -rf "$_dir"
			mv "$_tmp/src" "$_dir"
			rm -rf "$_tmp"
			stamp_set "$_pkg.src" "$_dir"
			echo "$_dir"
			return 0
		fi
		rm -rf "$_tmp"
	done
	tail -n 20 "$LOGS/fetch-$_pkg.log" >&2
	die "could not download any version of the source package $_pkg"
}

build_openssl() {
	_dir=$(fetch openssl)
	_want="$_dir $CC $DEP_CFLAGS $OSSL_OPTS"
	stamp_ok openssl "$_want" && [ -f "$PREFIX/lib/libcrypto.a" ] && return 0
	say "building OpenSSL from $(basename "$_dir") (a few minutes)"
	rm -f "$STAMPS/openssl" "$LOGS/openssl.log"
	_b=$CACHE/build/openssl
	rm -rf "$_b"
	mkdir -p "$_b"
	# shellcheck disable=SC2086 # the option lists are word lists
	(cd "$_b" && run openssl.log env CC="$CC" $TOOLS "$_dir/Configure" \
		$OSSL_OPTS --prefix="$PREFIX" --libdir=lib \
		--openssldir=/etc/ssl $DEP_CFLAGS)
	(cd "$_b" && run openssl.log make -j"$JOBS" build_libs)
	(cd "$_b" && run openssl.log make install_dev)
	stamp_set openssl "$_want"
	changed=1
}

build_libpq() {
	_dir=$(fetch postgresql-15)
	_want="$_dir $CC $DEP_CFLAGS $PG_OPTS $(cat "$STAMPS/openssl")"
	stamp_ok libpq "$_want" && [ -f "$PREFIX/lib/libpq.a" ] && return 0
	say "building libpq from $(basename "$_dir")"
	rm -f "$STAMPS/libpq" "$LOGS/libpq.log"
	_b=$CACHE/build/postgresql
	rm -rf "$_b"
	mkdir -p "$_b"
	# Cross: configure's link tests only pass with -static (the specs
	# file names a musl dynamic loader that is not installed).
	_host=
	_ldflags="-L$PREFIX/lib"
	if [ -n "$PG_HOST" ]; then
		_host=--host=$PG_HOST
		_ldflags="-static $_ldflags"
	fi
	# shellcheck disable=SC2086
	(cd "$_b" && run libpq.log "$_dir/configure" $PG_OPTS $_host \
		--prefix="$PREFIX" CC="$CC" CFLAGS="$DEP_CFLAGS" \
		CPPFLAGS="-I$PREFIX/include" LDFLAGS="$_ldflags")
	# A nested make does not build the generated headers on its own.
	run libpq.log make -C "$_b/src/backend" generated-headers
	run libpq.log make -j"$JOBS" -C "$_b/src/common" libpgcommon.a
	run libpq.log make -j"$JOBS" -C "$_b/src/port" libpgport.a
	run libpq.log make -j"$JOBS" -C "$_b/src/interfaces/libpq" libpq.a
	cp "$_b/src/common/libpgcommon.a" "$_b/src/port/libpgport.a" \
		"$_b/src/interfaces/libpq/libpq.a" "$PREFIX/lib/"
	cp "$_dir/src/interfaces/libpq/libpq-fe.h" \
		"$_dir/src/interfaces/libpq/libpq-events.h" \
		"$_dir/src/include/postgres_ext.h" \
		"$_b/src/include/pg_config_ext.h" "$PREFIX/include/"
	stamp_set libpq "$_want"
	changed=1
}

copy_inih() {
	_a=$INIH_LIB
	[ -f "$_a" ] || die "$_a not found: run 'make deps' (libinih-dev for $ARCH)"
	if ! cmp -s "$_a" "$PREFIX/lib/libinih.a" ||
		! cmp -s /usr/include/ini.h "$PREFIX/include/ini.h"; then
		cp /usr/include/ini.h "$PREFIX/include/"
		cp "$_a" "$PREFIX/lib/"
		changed=1
	fi
}

command -v "${CC%% *}" >/dev/null || die "${CC%% *} not found: run 'make deps'"
build_openssl
build_libpq
copy_inih
[ "$changed" -eq 0 ] || say "done: $PREFIX"
# mk/static.mk's target: newer than this script once the run succeeded.
touch "$PREFIX/.ready"
