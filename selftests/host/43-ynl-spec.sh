#!/bin/bash
# The YNL spec Documentation/netlink/specs/kh_reflect.yaml: valid under the
# kernel's genetlink-legacy schema, accepted by the kernel's YNL library and
# its C generator, and every name and value in it (commands, attributes,
# counters, enums, constants, family name, version, group) equal to the UAPI
# header's, with nothing of the header's netlink enums left out.
#
# YNL comes from the newest Debian linux-source tarball (linux-source-6.12:
# 6.1's has no Python YNL): tools/net/ynl and the schemas are extracted once
# into /var/lib/kh-reflect/ynl-SOURCE-MTIME, where the VM test
# selftests/tests/70-ynl.sh finds them too (not under /var/cache, as
# checkpatch's: virtme-ng mounts an empty tmpfs there in the guest).
top=$(cd "$(dirname "$0")/../.." && pwd)
spec=$top/Documentation/netlink/specs/kh_reflect.yaml
uapi=$top/include/uapi/linux/kh_reflect.h
py=/usr/bin/python3

[ -x "$py" ] || { echo "FAIL: no $py (make deps)"; exit 1; }
$py -c 'import yaml, jsonschema' 2>/dev/null ||
	{ echo "FAIL: python3-yaml and python3-jsonschema are needed (make deps)"; exit 1; }
tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n 1)
[ -n "$tarball" ] || { echo "FAIL: no linux-source tarball (make deps)"; exit 1; }

root=/var/lib/kh-reflect
src=$(basename "$tarball" .tar.xz)
cache=$root/ynl-$src-$(stat -c %Y "$tarball")
if [ ! -d "$cache/tools/net/ynl" ]; then
	echo "extracting tools/net/ynl and the netlink schemas from $tarball"
	mkdir -p "$root" || exit 1
	part=$(mktemp -d "$root/.ynl.XXXXXX") || exit 1
	if ! tar -xJf "$tarball" -C "$part" --strip-components=1 --wildcards \
		'*/tools/net/ynl/*' '*/Documentation/netlink/*.yaml'; then
		rm -rf "$part"
		echo "FAIL: could not extract tools/net/ynl from $tarball"
		exit 1
	fi
	# older extractions of the same source go; the new one appears whole
	rm -rf "$root/ynl-$src-"*
	mv "$part" "$cache" || exit 1
	chmod 755 "$cache"
fi
# 6.14 moved the Python side to tools/net/ynl/pyynl
ynl=$cache/tools/net/ynl
[ -f "$ynl/cli.py" ] || ynl=$cache/tools/net/ynl/pyynl
schema=$cache/Documentation/netlink/genetlink-legacy.yaml
if [ ! -f "$ynl/cli.py" ] || [ ! -f "$schema" ]; then
	echo "FAIL: $src has no Python YNL (tools/net/ynl/cli.py): linux-source-6.12 is needed (make deps)"
	exit 1
fi
echo "YNL from $src: $ynl"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Names and values: the spec as YNL reads it, against the header.
KH_YNL=$ynl KH_SPEC=$spec KH_SCHEMA=$schema KH_UAPI=$uapi KH_TMP=$tmp $py - <<'EOF'
import os, re, subprocess, sys

sys.path.insert(0, os.environ['KH_YNL'])
from lib import SpecFamily

tmp = os.environ['KH_TMP']
uapi = os.environ['KH_UAPI']
try:
    fam = SpecFamily(os.environ['KH_SPEC'], os.environ['KH_SCHEMA'])
except Exception as e:
    where = '/'.join(str(p) for p in getattr(e, 'absolute_path', []))
    print(f"{where}: {getattr(e, 'message', e)}" if where else str(e))
    print("FAIL: the spec does not validate against genetlink-legacy.yaml or does not load")
    sys.exit(1)

def c_upper(name):
    return name.upper().replace('-', '_')

expect = {}          # C name -> value, as the spec says
enums = {}           # C enum name -> set of its members in the spec
for name, c in fam.consts.items():
    if c['type'] == 'const':
        expect[c_upper(name)] = c['value']
    elif c['type'] == 'enum':
        pfx = c.yaml.get('name-prefix', f"{fam.ident_name}-{name}-")
        members = enums.setdefault(c.yaml['enum-name'], set())
        for e in c.entries.values():
            expect[c_upper(pfx + e.name)] = e.value
            members.add(c_upper(pfx + e.name))
for aset in fam.attr_sets.values():
    pfx = aset.yaml['name-prefix']
    members = enums.setdefault(aset.yaml['enum-name'], set())
    for a in aset.attrs.values():
        expect[c_upper(pfx + a.name)] = a.value
        members.add(c_upper(pfx + a.name))
    last = max(a.value for a in aset.attrs.values())
    expect[c_upper(aset.yaml['attr-max-name'])] = last
    expect[c_upper(aset.yaml['attr-cnt-name'])] = last + 1
ops = enums.setdefault(fam.yaml['operations']['enum-name'], set())
pfx = fam.yaml['operations']['name-prefix']
for op in fam.msgs.values():
    expect[c_upper(pfx + op.name)] = op.value
    ops.add(c_upper(pfx + op.name))
# ops count from 1: the header's 0 is a placeholder the spec cannot name
expect[c_upper(pfx + 'unspec')] = 0
ops.add(c_upper(pfx + 'unspec'))
last = max(op.value for op in fam.msgs.values())
expect[c_upper(fam.yaml['cmd-max-name'])] = last
expect[c_upper(fam.yaml['cmd-cnt-name'])] = last + 1
expect[c_upper(fam.yaml['c-version-name'])] = fam.yaml.get('version', 1)
strings = {c_upper(fam.yaml['c-family-name']): fam.name}
for g in fam.yaml['mcast-groups']['list']:
    strings[c_upper(g['c-define-name'])] = g['name']

bad = []

# Every member of the header's netlink enums is in the spec.
text = open(uapi).read()
text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
for ename, members in enums.items():
    m = re.search(r'enum\s+' + re.escape(ename) + r'\s*\{(.*?)\}', text, re.S)
    if not m:
        bad.append(f"enum {ename} of the spec is not in the header")
        continue
    have = {x.split('=')[0].strip() for x in m.group(1).split(',')}
    have = {x for x in have if x and not x.startswith('__')}
    for x in sorted(have - members):
        bad.append(f"{x} (enum {ename}) is in the header, not in the spec")

# Every name of the spec has its value in the header.
prog = ['#include <stdio.h>', f'#include "{uapi}"', 'int main(void)', '{']
for n in expect:
    prog.append(f'\tprintf("%s %lld\\n", "{n}", (long long)({n}));')
for n in strings:
    prog.append(f'\tprintf("%s %s\\n", "{n}", {n});')
prog += ['\treturn 0;', '}']
open(f'{tmp}/check.c', 'w').write('\n'.join(prog) + '\n')
cc = subprocess.run(['gcc', '-o', f'{tmp}/check', f'{tmp}/check.c'],
                    capture_output=True, text=True)
if cc.returncode:
    for line in cc.stderr.splitlines():
        if 'error:' in line:
            bad.append('header: ' + line.split('error:', 1)[1].strip())
else:
    out = subprocess.run([f'{tmp}/check'], capture_output=True, text=True).stdout
    got = dict(line.split(' ', 1) for line in out.splitlines())
    for n, v in expect.items():
        if got.get(n) != str(v):
            bad.append(f"{n}: the spec says {v}, the header {got.get(n)}")
    for n, v in strings.items():
        if got.get(n) != v:
            bad.append(f"{n}: the spec says \"{v}\", the header \"{got.get(n)}\"")

for b in bad:
    print(b)
if bad:
    print("FAIL: the spec and include/uapi/linux/kh_reflect.h disagree")
    sys.exit(1)
print(f"spec matches the header: {len(fam.msgs)} operations, "
      f"{sum(len(s.attrs) for s in fam.attr_sets.values())} attributes in "
      f"{len(fam.attr_sets)} sets, {len(expect) + len(strings)} names checked")
EOF
[ $? = 0 ] || exit 1

# The kernel's C generator renders the UAPI header from the spec.  It finds
# the schema and the kernel root from the spec's path: give it a small tree.
mkdir -p "$tmp/tree/Documentation/netlink/specs"
: >"$tmp/tree/MAINTAINERS"
cp "$cache"/Documentation/netlink/*.yaml "$tmp/tree/Documentation/netlink/"
cp "$spec" "$tmp/tree/Documentation/netlink/specs/"
gen=$ynl/ynl-gen-c.py
[ -f "$gen" ] || gen=$cache/tools/net/ynl/pyynl/ynl_gen_c.py
if ! (cd "$(dirname "$gen")" && timeout 60 $py "$gen" --mode uapi --header \
	--spec "$tmp/tree/Documentation/netlink/specs/kh_reflect.yaml" \
	-o "$tmp/gen.h") >"$tmp/gen.log" 2>&1; then
	tail -n 5 "$tmp/gen.log"
	echo "FAIL: the kernel's ynl-gen-c cannot render the UAPI header from the spec"
	exit 1
fi
gcc -fsyntax-only -x c - <<<"#include \"$tmp/gen.h\"" ||
	{ echo "FAIL: the header ynl-gen-c rendered from the spec does not compile"; exit 1; }
echo "ynl-gen-c renders a UAPI header from the spec"
