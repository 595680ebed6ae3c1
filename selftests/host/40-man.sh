#!/bin/bash
# The man pages khctl(8) and kh_reflect(7): clean under mandoc -T lint and
# groff -ww, their version the Makefile's, and complete: every command,
# subcommand, option and setting that "khctl help" lists is in khctl(8), and
# every JSON member khctl prints in khctl(8), every counter of the module in
# both pages.
top=$(cd "$(dirname "$0")/../.." && pwd)
export LC_ALL=C
cd "$top" || exit 1
for c in mandoc groff; do
	command -v $c >/dev/null || { echo "FAIL: no $c (make deps)"; exit 1; }
done
pages=(man/khctl.8 man/kh_reflect.7)
rc=0
bad() { echo "FAIL: $*"; rc=1; }

for p in "${pages[@]}"; do
	out=$(mandoc -T lint -W warning "$p" 2>&1) || [ -n "$out" ] ||
		out="mandoc exited $?"
	[ -z "$out" ] || bad "mandoc -T lint $p: $out"
	out=$(groff -ww -z -man "$p" 2>&1)
	[ -z "$out" ] || bad "groff -ww $p: $out"
	out=$(MANWIDTH=80 man --warnings -l "$p" 2>&1 >/dev/null)
	[ -z "$out" ] || bad "man --warnings $p: $out"
done
[ "$rc" = 0 ] && echo "mandoc -T lint, groff -ww, man --warnings: clean"

ver=$(sed -n 's/^VERSION := //p' Makefile)
for p in "${pages[@]}"; do
	grep -q "^\.TH .* \"kh_reflect $ver\" " "$p" || bad "$p: .TH does not say kh_reflect $ver"
done

# The page as text: escapes and fonts gone.
text() { sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(em/-/g' -e 's/\\(dq/"/g' "$1"; }
k8=$(text man/khctl.8)
k7=$(text man/kh_reflect.7)

make -s -C genl-tool >/dev/null || { echo "FAIL: cannot build khctl"; exit 1; }
khctl=genl-tool/khctl
cmds=$($khctl help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } /^$/ && on { on = 0 }')
[ -n "$cmds" ] || { echo "FAIL: khctl help lists no command"; exit 1; }
subs=$($khctl help peers | sed -n 's/^  khctl peers \([a-z]*\) .*/\1/p; s/^  khctl peers \([a-z]*\)$/\1/p')
n=0
for c in $cmds; do
	help=$($khctl help "$c")
	if [ "$c" = peers ]; then
		for s in $subs; do
			grep -q "^\.SS \"khctl peers $s\b" <<<"$k8" || bad "khctl.8 has no section for 'khctl peers $s'"
			help+=$'\n'$($khctl help peers "$s")
		done
	else
		grep -q "^\.SS \"khctl $c\b" <<<"$k8" || bad "khctl.8 has no section for 'khctl $c'"
	fi
	# options, and the words of the usage line (actions and settings)
	for o in $(grep -o -E -- '(^|[ ,[])--?[a-z][a-z-]*' <<<"$help" | tr -d ' ,[' | sort -u); do
		grep -q -w -F -- "$o" <<<"$k8" || bad "khctl.8 does not mention $o (khctl help $c)"
		n=$((n + 1))
	done
	for w in $(sed -n '1s/^usage: khctl [a-z]* //p' <<<"$help" | grep -o -E '\b[a-z][a-z-]+\b'); do
		grep -q -w -F -- "$w" <<<"$k8" || bad "khctl.8 does not mention '$w' (usage of khctl $c)"
		n=$((n + 1))
	done
done
grep -q -- '--version' <<<"$k8" || bad "khctl.8 does not mention --version"

# The counters, as khctl names them.
counters=$(sed -n 's/^\s*\[KH_STAT_[A-Z_]*\]\s*= "\([a-z_]*\)",$/\1/p' genl-tool/kh.c)
[ -n "$counters" ] || bad "no counter names found in genl-tool/kh.c"
for s in $counters; do
	grep -q -w -- "$s" <<<"$k8" || bad "khctl.8 does not mention the counter $s"
	grep -q -w -- "$s" <<<"$k7" || bad "kh_reflect.7 does not mention the counter $s"
done
# Every JSON member (and string value) khctl prints.
members=$(grep -h -o '\\"[a-z_]*\\"' genl-tool/*.c | tr -d '\\"' | sort -u)
[ -n "$members" ] || bad "no JSON member names found in genl-tool/*.c"
for m in $members; do
	grep -q -w -- "$m" <<<"$k8" || bad "khctl.8 does not mention the JSON member or value '$m'"
done
# The exit codes khctl uses.
for code in 0 1 2; do
	grep -A1 '^\.SH EXIT STATUS' -A40 <<<"$k8" | grep -q -x "\.B $code" ||
		bad "khctl.8: exit status $code is not described"
done
[ "$rc" = 0 ] && echo "khctl.8 covers $(wc -w <<<"$cmds") commands, $(wc -w <<<"$subs") peers subcommands, $n options and words of usage, $(wc -w <<<"$members") JSON names; both pages the $(wc -w <<<"$counters") counters"
exit $rc
