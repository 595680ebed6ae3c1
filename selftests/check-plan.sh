#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What make check boots, as selftests/run.sh arguments, one per line: the
# whole VM suite on the newest kernel; the core (run.sh --core) on the
# oldest and on the host's own kernels (those apt installs, the ones users
# of this distribution run).  The everyday-network tests on the oldest too
# (run.sh --core KVER:'@(77|78|79)-*') took its boot to 500 s here, about
# 3 minutes more, and make check is at about an hour on a fresh machine
# already (CI: 57 minutes), so not yet.  The kernels in between build (the host tests
# build and check the module for every kernel) and are left to
# make check-kernels, which boots them all: make check must stay well
# within CI's time on a two-core machine.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/kernels.sh"

mapfile -t all < <(kh_kernels --all)
mapfile -t host < <(kh_kernels)
n=${#all[@]}
[ "$n" -gt 0 ] || exit 0
echo "--kernel"
echo "${all[n - 1]}"
for ((i = 0; i < n - 1; i++)); do
	k=${all[i]}
	if [ "$i" = 0 ]; then
		echo "--core"
		echo "$k"
	elif printf '%s\n' "${host[@]}" | grep -qxF -- "$k"; then
		echo "--core"
		echo "$k"
	fi
done
