#!/bin/sh
# deps.sh - install what a fresh Debian 12 (bookworm) machine lacks to build
# and test entrypoint (`make deps`).  Installs only missing packages: when
# nothing is missing it neither calls apt-get update nor apt-get install, so a
# second run takes about a second.  Also adds a deb-src entry so that
# `apt-get source` (used by scripts/static-deps.sh) works.
#
# sql-migrate: tests/pg/t3700 lets the real tool apply half of a chain and
# write its gorp_migrations before entrypoint takes its history over.
#
# npm is not listed: bench/ and t3700 install dbmate with npm; on these machines
# node and npm come from NodeSource's nodejs package, which conflicts with
# Debian's npm.  Install npm yourself if `command -v npm` finds nothing.
set -eu

# Each package has a reason; keep the list sorted by purpose.  (zsh: the
# completion script is tried in a real zsh; groff-base and man-db: the man
# page is rendered and checked for warnings.)
PKGS="
build-essential pkg-config make git ca-certificates
musl-tools libinih-dev libpq-dev libssl-dev
dpkg-dev xz-utils perl openssl
postgresql-15 postgresql-client-15
tini dumb-init catatonit
shellcheck cppcheck clang clang-tidy valgrind
tmux bsdutils util-linux procps psmisc file
zsh groff-base man-db
podman runc netavark aardvark-dns debootstrap uidmap slirp4netns
fuse-overlayfs
python3 python3-psycopg2 python3-yaml
hyperfine gnuplot-nox strace
asciinema
sql-migrate
"
# make dist (x86_64 hosts): the aarch64 binary is cross-compiled with
# Debian's cross gcc against the arm64 musl and libinih.a (foreign
# architecture arm64), and tested under qemu-user.
CROSS_PKGS="
gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu musl-dev:arm64
libinih-dev:arm64 qemu-user-static
"
# Installed without recommends: docker-compose (1.29, the Python one) drives
# podman through its Docker API socket in tests/container (t5150); its
# recommends would pull in docker.io and iptables.
NORECS="
docker-compose
"

SRC_LIST=/etc/apt/sources.list.d/entrypoint-deb-src.sources
NATIVE_ARCH=$(dpkg --print-architecture)
DEBIAN_SOURCES=/etc/apt/sources.list.d/debian.sources

if [ "$(id -u)" -eq 0 ]; then
	SUDO=
else
	SUDO=sudo
fi

# installed PKG: PKG (or PKG:ARCH) is installed; a name without an
# architecture means this machine's (or "all"), also when a foreign
# architecture's copy is installed next to it.
installed() {
	case $1 in
	*:*)
		[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]
		;;
	*)
		dpkg-query -W -f='${db:Status-Abbrev}${Architecture}\n' "$1" \
			2>/dev/null | grep -qxE "ii ($NATIVE_ARCH|all)"
		;;
	esac
}

# Some deb-src line for bookworm anywhere in apt's sources?
have_deb_src() {
	grep -rqsE '^[[:space:]]*(deb-src[[:space:]]|Types:.*deb-src)' \
		/etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}

# Print deb-src stanzas mirroring the "deb" stanzas of debian.sources (same
# URIs, suites, components, Signed-By), or Debian's defaults when that file
# is absent.
deb_src_stanzas() {
	if [ -r "$DEBIAN_SOURCES" ]; then
		awk '
		BEGIN { RS = ""; FS = "\n" }
		{
			out = ""; isdeb = 0; keep = 0
			for (i = 1; i <= NF; i++) {
				l = $i
				if (l ~ /^#/)
					continue
				if (l ~ /^[ \t]/) {
					if (keep) out = out l "\n"
					continue
				}
				keep = 0
				if (l ~ /^Types:/) {
					if (l ~ /[: \t]deb([ \t]|$)/) isdeb = 1
					continue
				}
				if (l ~ /^(URIs|Suites|Components|Signed-By|Architectures):/) {
					out = out l "\n"; keep = 1
				}
			}
			if (isdeb && out != "")
				printf "%sTypes: deb-src\n%s", (n++ ? "\n" : ""), out
		}' "$DEBIAN_SOURCES"
	else
		cat <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	fi
}

need_update=0
if [ "$NATIVE_ARCH" = amd64 ]; then
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		echo "deps: adding the foreign architecture arm64 (make dist)"
		$SUDO dpkg --add-architecture arm64
		need_update=1
	fi
	PKGS="$PKGS $CROSS_PKGS"
fi
if ! have_deb_src; then
	echo "deps: adding deb-src entries in $SRC_LIST"
	stanzas=$(deb_src_stanzas)
	printf '%s\n' "# Added by entrypoint's scripts/deps.sh for apt-get source." \
		"$stanzas" | $SUDO tee "$SRC_LIST" >/dev/null
	need_update=1
fi
# The deb-src entry is there but its index was never downloaded.
if ! ls /var/lib/apt/lists/*_source_Sources* >/dev/null 2>&1; then
	need_update=1
fi

missing=
for p in $PKGS; do
	installed "$p" || missing="$missing $p"
done
missing_norecs=
for p in $NORECS; do
	installed "$p" || missing_norecs="$missing_norecs $p"
done

if [ -z "$missing$missing_norecs" ] && [ "$need_update" -eq 0 ]; then
	echo "deps: nothing missing"
	exit 0
fi

export DEBIAN_FRONTEND=noninteractive
echo "deps: apt-get update"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
if [ -n "$missing" ]; then
	echo "deps: installing:$missing"
	# shellcheck disable=SC2086 # word splitting of the list is wanted
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		-o Dpkg::Options::=--force-confdef \
		-o Dpkg::Options::=--force-confold $missing
fi
if [ -n "$missing_norecs" ]; then
	echo "deps: installing (no recommends):$missing_norecs"
	# shellcheck disable=SC2086
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends -o Dpkg::Options::=--force-confdef \
		-o Dpkg::Options::=--force-confold $missing_norecs
fi
echo "deps: done"
