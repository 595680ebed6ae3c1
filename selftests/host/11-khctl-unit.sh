#!/bin/bash
# khctl's own parsing and formatting, under ASan/UBSan.
set -e
top=$(cd "$(dirname "$0")/../.." && pwd)
make -s -C "$top/genl-tool" test

# Every help text: exit 0, on stdout, no line ending in a blank.
khctl=$top/genl-tool/khctl
make -s -C "$top/genl-tool" >/dev/null
cmds=$("$khctl" help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
helps=("help" "help help")
for c in $cmds; do
	helps+=("help $c")
	for s in $("$khctl" help "$c" | sed -n "s/^  khctl $c \([a-z]\+\).*/\1/p" | sort -u); do
		helps+=("help $c $s")
	done
done
for h in "${helps[@]}"; do
	# shellcheck disable=SC2086 # one word per argument
	out=$("$khctl" $h) || { echo "FAIL: khctl $h exits $?"; exit 1; }
	if grep -n ' $' <<<"$out"; then
		echo "FAIL: khctl $h: a line ends in a blank (above)"
		exit 1
	fi
done
echo "ok: ${#helps[@]} help texts, each exits 0, no trailing blanks"
