#!/bin/sh
# checksrc.sh - refuse banned calls in entrypoint/ (STYLE.md section 10).
set -u
cd "$(dirname "$0")/.." || exit 1
banned='sprintf|vsprintf|strcpy|strcat|strncat|gets|atoi|signal|system|popen'
# A call is the name followed by "(", not part of a longer identifier.
hits=$(grep -nE "(^|[^A-Za-z0-9_.>])($banned)[[:space:]]*\\(" entrypoint/*.c \
	entrypoint/*.h | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/\*|\*)')
if [ -n "$hits" ]; then
	echo "checksrc: banned function in entrypoint/:" >&2
	echo "$hits" >&2
	exit 1
fi
exit 0
