#!/bin/sh
# dist-image.sh - `make dist-image`: the binary image to copy from,
#
#	COPY --from=entrypoint:VERSION /entrypoint /usr/local/bin/entrypoint
#
# FROM scratch, holding only /entrypoint (the static binary) and /LICENSE
# (its license and those of the libraries linked in), for linux/amd64 and
# linux/arm64 under one manifest list tagged NAME:VERSION and NAME:latest.
# Run after scripts/dist.sh (make dist), whose checked binaries and license
# files in build/dist/ARCH/ it packs; nothing is compiled here and nothing
# runs under emulation (the image has no RUN step).
#
# Environment: EP_VERSION, EP_COMMIT (from the Makefile), DIST_IMAGE (NAME,
# default entrypoint), CONTAINER_ENGINE (podman, the default, or docker;
# docker needs buildx for the manifest list).
set -eu

cd "$(dirname "$0")/.."
SRCDIR=$(pwd)
ENGINE=${CONTAINER_ENGINE:-podman}
NAME=${DIST_IMAGE:-entrypoint}
VERSION=${EP_VERSION:-$(cat VERSION)}
COMMIT=${EP_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
STAGE=build/dist
CTX=$STAGE/image

if [ "$ENGINE" = podman ] && [ -z "${CONTAINERS_CONF:-}" ]; then
	CONTAINERS_CONF=$SRCDIR/tests/container/containers.conf
	export CONTAINERS_CONF
fi

die() {
	printf 'dist-image: %s\n' "$*" >&2
	exit 1
}

command -v "$ENGINE" >/dev/null 2>&1 ||
	die "container engine \"$ENGINE\" not found (set CONTAINER_ENGINE or run make deps)"

# The context: one directory per OCI architecture name, which the
# Containerfile picks through TARGETARCH (set by the engine per platform).
rm -rf "$CTX"
for pair in x86_64:amd64 aarch64:arm64; do
	arch=${pair%%:*}
	oci=${pair#*:}
	if [ ! -x "$STAGE/$arch/entrypoint" ] || [ ! -f "$STAGE/$arch/LICENSE" ]; then
		die "no $STAGE/$arch/entrypoint: run make dist first"
	fi
	mkdir -p "$CTX/$oci"
	cp -p "$STAGE/$arch/entrypoint" "$STAGE/$arch/LICENSE" "$CTX/$oci/"
done
cat >"$CTX/Containerfile" <<EOF
FROM scratch
ARG TARGETARCH
COPY \$TARGETARCH/entrypoint /entrypoint
COPY \$TARGETARCH/LICENSE /LICENSE
LABEL org.opencontainers.image.title="entrypoint" \\
	org.opencontainers.image.description="static PID 1 and one-off command runner: COPY --from this image /entrypoint" \\
	org.opencontainers.image.version="$VERSION" \\
	org.opencontainers.image.revision="$COMMIT"
ENTRYPOINT ["/entrypoint"]
CMD ["version"]
EOF

platforms=linux/amd64,linux/arm64
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || echo 0)
fi
if [ "$ENGINE" = podman ]; then
	# Each architecture's image is tagged NAME:VERSION-ARCH, so that
	# `podman image prune` never removes an image the list refers to.
	# One layer per image, no intermediate images (--layers=false), and
	# the commit's time (--timestamp): the same commit, the same digests.
	for tag in "$NAME:$VERSION" "$NAME:latest"; do
		if podman manifest exists "$tag" 2>/dev/null; then
			podman manifest rm "$tag" >/dev/null
		elif podman image exists "$tag"; then
			podman rmi "$tag" >/dev/null
		fi
	done
	# containers-storage: takes no short names
	case $NAME in
	*/*) FQ=$NAME ;;
	*) FQ=localhost/$NAME ;;
	esac
	: >"$STAGE/image.log"
	podman manifest create "$NAME:$VERSION" >>"$STAGE/image.log" 2>&1 ||
		{ tail -n 5 "$STAGE/image.log" >&2; die "podman manifest create failed"; }
	for oci in amd64 arm64; do
		podman build --network=none --layers=false \
			--timestamp "$SOURCE_DATE_EPOCH" --platform "linux/$oci" \
			-t "$NAME:$VERSION-$oci" -f "$CTX/Containerfile" "$CTX" \
			>>"$STAGE/image.log" 2>&1 ||
			{ tail -n 20 "$STAGE/image.log" >&2; die "podman build failed"; }
		podman manifest add "$NAME:$VERSION" \
			"containers-storage:$FQ:$VERSION-$oci" \
			>>"$STAGE/image.log" 2>&1 ||
			{ tail -n 5 "$STAGE/image.log" >&2; die "podman manifest add failed"; }
	done
	podman tag "$NAME:$VERSION" "$NAME:latest"
	podman manifest inspect "$NAME:$VERSION" >"$STAGE/manifest.json"
	for oci in amd64 arm64; do
		grep -q "\"architecture\": \"$oci\"" "$STAGE/manifest.json" ||
			die "the manifest list lacks linux/$oci"
	done
else
	docker buildx build --platform "$platforms" -t "$NAME:$VERSION" \
		-t "$NAME:latest" -f "$CTX/Containerfile" "$CTX"
fi
printf 'dist-image: %s:%s and %s:latest (%s)\n' "$NAME" "$VERSION" "$NAME" \
	"$platforms"
