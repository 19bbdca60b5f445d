#!/bin/bash
# t5100: `make dist-image` (scripts/dist-image.sh), under a name of this
# test's own: one manifest list for linux/amd64 and linux/arm64 whose
# images hold nothing but /entrypoint (dist's binary of that architecture)
# and /LICENSE; `COPY --from=NAME:VERSION` in a build for either platform
# takes that platform's binary; the amd64 image runs, the arm64 binary runs
# under qemu-user; labels name the version and commit; a second build
# gives the same images (no stale instance in the list).
. "${SRCDIR:?}/tests/container/lib-container.sh"

ct_require_engine
[ "$ENGINE" = podman ] || skip_all "the manifest list checks use podman's commands"
V=$(cat "$SRCDIR/VERSION")
C=$(git -C "$SRCDIR" rev-parse --short HEAD)
N=localhost/ep-t5100-$$
D=$SRCDIR/build/dist
# make dist (quick when nothing changed): the binaries of this commit
make -s -C "$SRCDIR" dist >"$T/dist.log" 2>&1 || {
	tail -n 20 "$T/dist.log" >&2
	echo "Bail out! make dist failed"
	exit 1
}
cleanup_images() {
	podman manifest rm "$N:$V" "$N:latest" >/dev/null 2>&1
	podman rmi -f "$N:$V-amd64" "$N:$V-arm64" >/dev/null 2>&1
}
trap 'cleanup_images; ct_cleanup; _pg_cleanup' EXIT

build() {
	DIST_IMAGE=$N sh "$SRCDIR/scripts/dist-image.sh" >"$T/di.log" 2>&1
}
build
r=$?
is "$r" 0 "scripts/dist-image.sh builds $N:$V"
[ "$r" = 0 ] || sed 's/^/# /' "$T/di.log"

# --- the manifest list -------------------------------------------------------
plat() {
	podman manifest inspect "$1" | "$PY" -c 'import json, sys
for m in json.load(sys.stdin)["manifests"]:
    p = m["platform"]
    print(p["os"] + "/" + p["architecture"], m["digest"])' | sort
}
plat "$N:$V" >"$T/list"
is "$(cut -d' ' -f1 "$T/list" | tr '\n' ' ')" "linux/amd64 linux/arm64 " \
	"$N:$V is a manifest list of linux/amd64 and linux/arm64, nothing else"
is "$(plat "$N:latest")" "$(cat "$T/list")" "$N:latest is the same list"
for a in amd64 arm64; do
	is "$(sed -n "s|^linux/$a ||p" "$T/list")" \
		"$(podman image inspect --format '{{.Digest}}' "$N:$V-$a")" \
		"the list's linux/$a entry is $N:$V-$a"
	is "$(podman image inspect --format '{{.Os}}/{{.Architecture}}' "$N:$V-$a")" \
		"linux/$a" "$N:$V-$a is configured as linux/$a"
done

# --- what each image holds -----------------------------------------------------
for pair in amd64:x86_64 arm64:aarch64; do
	a=${pair%%:*}
	arch=${pair#*:}
	ct_name x
	podman create --name "$CT_NAME" "$N:$V-$a" >/dev/null 2>&1
	podman export "$CT_NAME" | tar -tf - | sort >"$T/files-$a"
	is "$(tr '\n' ' ' <"$T/files-$a")" "LICENSE entrypoint " \
		"the $a image holds /entrypoint and /LICENSE, nothing else"
	rm -rf "$T/x-$a"
	mkdir "$T/x-$a"
	podman export "$CT_NAME" | tar -xf - -C "$T/x-$a"
	ok "its /entrypoint is dist's $arch binary" \
		cmp -s "$T/x-$a/entrypoint" "$D/$arch/entrypoint"
	ok "its /LICENSE is dist's $arch license" \
		cmp -s "$T/x-$a/LICENSE" "$D/$arch/LICENSE"
	like "$(stat -c %a "$T/x-$a/entrypoint")" '^7[0-7]5$' \
		"/entrypoint is executable by anyone"
done
labels=$(podman image inspect --format '{{json .Labels}}' "$N:$V-amd64")
like "$labels" "\"org.opencontainers.image.version\":\"$V\"" "the version label"
like "$labels" "\"org.opencontainers.image.revision\":\"$C\"" "the commit label"
is "$(podman run --rm --network=none "$N:$V")" "entrypoint $V ($C)" \
	"podman run $N:$V runs /entrypoint version (amd64, this machine)"
if command -v qemu-aarch64-static >/dev/null; then
	is "$(qemu-aarch64-static "$T/x-arm64/entrypoint" version)" \
		"entrypoint $V ($C)" "the arm64 image's binary runs (qemu-user)"
else
	skip "no qemu-aarch64-static"
fi

# --- COPY --from for either platform ---------------------------------------------
mkdir "$T/use"
printf 'FROM scratch\nCOPY --from=%s:%s /entrypoint /ep\n' "$N" "$V" \
	>"$T/use/Containerfile"
for pair in amd64:x86-64 arm64:'ARM aarch64'; do
	a=${pair%%:*}
	want=${pair#*:}
	img=$N-use:$a
	ct_track_image "$img"
	podman build --network=none --platform "linux/$a" -t "$img" \
		"$T/use" >"$T/use-$a.log" 2>&1
	is "$?" 0 "a --platform linux/$a build copies from $N:$V"
	ct_name u
	podman create --name "$CT_NAME" "$img" /ep >/dev/null 2>&1
	podman cp "$CT_NAME:/ep" "$T/ep-$a" 2>/dev/null
	like "$(file -b "$T/ep-$a")" "$want" \
		"and gets the $a binary ($want)"
done

# --- a rebuild ----------------------------------------------------------------
build
is "$?" 0 "a second dist-image"
is "$(plat "$N:$V")" "$(cat "$T/list")" \
	"gives the same two images (same digests), no stale entry"

done_testing
