#!/bin/bash
# The bash completion of khctl, under bash-completion, with a stand-in wg
# that has the WireGuard devices wg0 and wg1: commands, subcommands,
# options, devices, peers' keys and endpoints, settings, files.
top=$(cd "$(dirname "$0")/../.." && pwd)
bc=/usr/share/bash-completion/bash_completion
[ -f "$bc" ] || { echo "FAIL: no $bc: bash-completion is not installed (make deps)"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin" "$tmp/dir"
: >"$tmp/dir/mesh.key"
ka=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
kb=BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=
cat >"$tmp/bin/wg" <<EOF
#!/bin/sh
case "\$*" in
"show interfaces") echo "wg0 wg1" ;;
"show wg0 peers") printf '%s\n' $ka $kb ;;
"show wg0 endpoints") printf '%s\t%s\n' $ka 198.51.100.1:51820 $kb '(none)' ;;
*) exit 1 ;;
esac
EOF
cat >"$tmp/bin/khctl" <<EOF
#!/bin/sh
[ "\$*" = "peers list" ] && echo "$kb  203.0.113.2:51820  learned  age 1s  expires 599s"
EOF
chmod +x "$tmp/bin/wg" "$tmp/bin/khctl"

# Each case: the command line, TAB at its end | the completions expected.
cat >"$tmp/cases" <<EOF
khctl |status reflect probe reflections key config peers netcheck monitor help --version --help
khctl re|reflect reflections
khctl reflect |enable disable
khctl reflect enable |wg0 wg1
khctl reflect disable w|wg0 wg1
khctl probe |wg0 wg1
khctl probe wg0 |198.51.100.1:51820
khctl probe wg0 198.51.100.1:51820 --t|--timeout
khctl key |generate set clear
khctl key set |wg0 wg1
khctl key set wg0 $tmp/dir/|$tmp/dir/mesh.key
khctl key set wg0 -|- -j --json -h --help
khctl config |max-records record-ttl rate burst total-rate relay-rate
khctl config rate 5 b|burst
khctl config rate |
khctl peers |list show delete flush push pull sync export import
khctl peers sync |wg0 wg1
khctl peers sync wg0 --|--reflector --watch --interval --timeout --start-ttl --relay-after --birthday --state-dir --no-cache --json --help
khctl peers sync wg0 --state-dir $tmp/d|$tmp/dir
khctl peers sync wg0 --reflector |198.51.100.1:51820
khctl peers sync wg0 -w --interval |
khctl netcheck |wg0 wg1
khctl netcheck wg0 --|--reflector --timeout --json --help
khctl peers show wg0 |$ka $kb
khctl peers delete |$kb
khctl peers flush |
khctl peers list -|-j --json -h --help
khctl status -|-j --json -h --help
khctl monitor --|--json --help
khctl help |status reflect probe reflections key config peers netcheck monitor
khctl help peers s|show sync
EOF

n=0 rc=0
while IFS='|' read -r line want; do
	got=$(PATH="$tmp/bin:$PATH" LINE=$line bash -c '
		. '"$bc"'
		. '"$top"'/completion/khctl
		COMP_LINE=$LINE COMP_POINT=${#LINE}
		read -ra COMP_WORDS <<<"$LINE"
		[[ $LINE == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_khctl khctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' 2>&1 | sort | xargs)
	want=$(printf '%s\n' $want | sort | xargs)
	n=$((n + 1))
	if [ "$got" != "$want" ]; then
		echo "FAIL: '$line<TAB>': expected '$want', got '$got'"
		rc=1
	fi
done <"$tmp/cases"
out=$(bash -c ". $bc; . $top/completion/khctl; complete -p khctl" 2>&1)
[ "$out" = "complete -F _khctl khctl" ] || { echo "FAIL: complete -p khctl: $out"; rc=1; }
[ "$rc" = 0 ] && echo "bash completion: $n cases"
exit $rc
