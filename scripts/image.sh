#!/bin/sh
# image.sh - `make image`: build the example app's release image.
#
#	sh scripts/image.sh [--base-only]
#
# Environment:
#	IMAGE             image to build (default entrypoint-demo:dev)
#	CONTAINER_ENGINE  podman (default) or docker
#	RELEASE           release id baked into the image (default: from git)
#	EP_BINARY         a static binary already built (build/entrypoint-static,
#	                  or build/DIR/entrypoint-static) to copy in instead of
#	                  compiling it in the builder stage: the tests use it
#	                  to keep image builds fast
#	DEBIAN_MIRROR     mirror for debootstrap (default deb.debian.org)
#
# No registry is reachable on the machines this runs on, so when the base
# image debian:bookworm-slim is missing it is made locally with debootstrap
# (about 40 s) and the root filesystem tarball is cached in .cache/ so the
# next machine state only pays for the import.  Podman gets the repo's
# containers.conf (runc, rlimits the kernel accepts); builds use the host
# network (never a bridge; see CONTAINERS.md).
set -eu

cd "$(dirname "$0")/.."
SRCDIR=$(pwd)
ENGINE=${CONTAINER_ENGINE:-podman}
IMAGE=${IMAGE:-entrypoint-demo:dev}
BASE=docker.io/library/debian:bookworm-slim
CACHE=$SRCDIR/.cache
ROOTFS_TAR=$CACHE/debian-bookworm-minbase.tar
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ "$ENGINE" = podman ] && [ -z "${CONTAINERS_CONF:-}" ]; then
	CONTAINERS_CONF=$SRCDIR/tests/container/containers.conf
	export CONTAINERS_CONF
fi

say() {
	printf 'image: %s\n' "$*" >&2
}

die() {
	printf 'image: %s\n' "$*" >&2
	exit 1
}

command -v "$ENGINE" >/dev/null 2>&1 ||
	die "container engine \"$ENGINE\" not found (set CONTAINER_ENGINE or run make deps)"

# make_rootfs: debootstrap a minimal bookworm into a tarball in the cache.
make_rootfs() {
	command -v debootstrap >/dev/null 2>&1 ||
		die "debootstrap not found (run make deps)"
	[ "$(id -u)" = 0 ] || die "debootstrap needs root"
	mkdir -p "$CACHE"
	dir=$(mktemp -d "$CACHE/rootfs.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$dir' '$ROOTFS_TAR.tmp'" EXIT INT TERM
	say "creating $BASE with debootstrap (minbase, $MIRROR)"
	debootstrap --variant=minbase bookworm "$dir" "$MIRROR" >"$dir.log" 2>&1 ||
		{ tail -n 20 "$dir.log" >&2; rm -f "$dir.log"; die "debootstrap failed"; }
	rm -f "$dir.log"
	# What the official slim image also drops: caches and logs.
	rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* \
		"$dir"/var/log/*.log
	tar --numeric-owner -C "$dir" -cf "$ROOTFS_TAR.tmp" .
	mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
	rm -rf "$dir"
	trap - EXIT INT TERM
}

# ensure_base: the base image exists locally, or is made from the cached
# (or a fresh) debootstrap tarball.  With docker and no debootstrap, pull.
ensure_base() {
	if "$ENGINE" image inspect "$BASE" >/dev/null 2>&1; then
		return 0
	fi
	if [ ! -s "$ROOTFS_TAR" ] && ! command -v debootstrap >/dev/null 2>&1 &&
	    [ "$ENGINE" = docker ]; then
		docker pull "$BASE"
		return
	fi
	[ -s "$ROOTFS_TAR" ] || make_rootfs
	say "importing $ROOTFS_TAR as $BASE"
	"$ENGINE" import --change 'CMD ["bash"]' "$ROOTFS_TAR" "$BASE" >/dev/null
}

release_id() {
	if [ -n "${RELEASE:-}" ]; then
		printf '%s\n' "$RELEASE"
	elif git rev-parse --short HEAD >/dev/null 2>&1; then
		printf '%s-%s\n' "$(cat VERSION)" "$(git rev-parse --short HEAD)"
	else
		cat VERSION
	fi
}

ensure_base
[ "${1:-}" = --base-only ] && exit 0

release=$(release_id)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
set -- --network=host -t "$IMAGE" \
	--build-arg "RELEASE=$release" --build-arg "COMMIT=$commit"
dockerfile=Dockerfile
if [ -n "${EP_BINARY:-}" ]; then
	# Same Dockerfile, with the builder stage (between its begin and end
	# markers) replaced by a stage holding the binary already built.
	case $EP_BINARY in
	/*) rel=${EP_BINARY#"$SRCDIR"/} ;;
	*) rel=$EP_BINARY ;;
	esac
	case $rel in
	build/entrypoint-static | build/*/entrypoint-static) ;;
	*) die "EP_BINARY must be build/[DIR/]entrypoint-static (what .dockerignore lets into the build context)" ;;
	esac
	[ -x "$rel" ] || die "EP_BINARY \"$rel\" does not exist (run make static)"
	mkdir -p "$CACHE"
	dockerfile=$CACHE/Dockerfile.prebuilt.$$
	# shellcheck disable=SC2064
	trap "rm -f '$dockerfile'" EXIT INT TERM
	awk -v bin="$rel" '
	/^# --- builder: begin/ {
		print "FROM scratch AS builder"
		print "COPY " bin " /src/build/entrypoint-static"
		skip = 1; next
	}
	/^# --- builder: end/ { skip = 0; next }
	!skip' Dockerfile >"$dockerfile"
	grep -q "^COPY $rel " "$dockerfile" ||
		die "Dockerfile: builder markers not found"
fi
set -- "$@" -f "$dockerfile"
say "building $IMAGE (release $release) with $ENGINE"
"$ENGINE" build "$@" .
say "built $IMAGE"
