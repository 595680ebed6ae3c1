#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every command needs CAP_NET_ADMIN, reads too: an unprivileged user is refused
# with a clear message, root in the same namespace is not.
# kh-parallel
. "$(dirname "$0")/../lib.sh"

# A copy that user nobody can reach, whatever the modes of the repository.
mkdir "$KH_TMP/bin"
cp "$KHCTL" "$KH_TMP/bin/khctl"
chmod 755 "$KH_TMP" "$KH_TMP/bin" "$KH_TMP/bin/khctl"

nobody() {
	ns 1 setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		--bounding-set=-all "$@"
}

if out=$(nobody "$KH_TMP/bin/khctl" status 2>&1); then
	fail "khctl status as uid 65534 succeeded; expected permission denied. Output: $out"
fi
grep -qi "permission denied" <<<"$out" ||
	fail "khctl status as uid 65534: expected a message with 'permission denied', got: $out"
if out=$(nobody "$KH_TMP/bin/khctl" status -j 2>&1); then
	fail "khctl status -j as uid 65534 succeeded; expected permission denied"
fi

kh 1 status >/dev/null || fail "khctl status as root in the same namespace exited $?"
