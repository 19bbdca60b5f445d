#!/bin/bash
# t0540-links: every relative link in README.md and docs/*.md, and every
# FILE.md they name, points at a file of the repository.
. "$SRCDIR/tests/sh/lib.sh"

cd "$SRCDIR" || exit 1
n=0
for f in README.md docs/*.md; do
	dir=$(dirname "$f")
	# [text](target) and [text]: target, minus #anchors; not URLs.
	links=$(grep -oE '\]\([^) ]+\)|^\[[^]]+\]: *[^ ]+' "$f" |
		sed -E 's/^\]\(//; s/\)$//; s/^\[[^]]+\]: *//; s/#.*//' |
		grep -vE '^(https?|mailto|ftp):|^$' || true)
	for l in $links; do
		n=$((n + 1))
		ok "$f links $l, which exists" test -e "$dir/$l"
	done
	# A FILE.md named in the text (like "see DESIGN.md") exists too.
	names=$(grep -oE '(^|[ (`])[A-Za-z0-9_./-]+\.md\b' "$f" |
		sed -E 's/^[ (`]//' | sort -u)
	for l in $names; do
		n=$((n + 1))
		ok "$f names $l, which exists" \
			test -e "$dir/$l" -o -e "$l"
	done
done
ok "the check looked at some links" test "$n" -gt 5

done_testing
