#!/bin/bash
# The YNL spec Documentation/netlink/specs/kh_reflect.yaml: valid under the
# kernel's genetlink-legacy schema, accepted by the kernel's YNL library and
# its C generator, and every name and value in it (commands, attributes,
# counters, enums, flags, constants, family name, version, group) equal to
# the UAPI header's, with nothing of the header's netlink enums left out.
# The tables that khctl and selftests/tools/khnl.py keep by hand agree with
# it: khnl.py's command and attribute numbers, khctl's attribute policies
# (types and lengths), and what khctl puts in each request (only attributes
# that the command's request lists, of the spec's type; dumps as dumps).
#
# YNL comes from the newest Debian linux-source tarball (linux-source-6.12:
# 6.1's has no Python YNL), extracted once into
# /var/lib/kh-reflect/ynl-SOURCE-MTIME by Documentation/netlink/ynl-gen.sh,
# where the VM test selftests/tests/70-ynl.sh finds it too.
top=$(cd "$(dirname "$0")/../.." && pwd)
spec=$top/Documentation/netlink/specs/kh_reflect.yaml
uapi=$top/include/uapi/linux/kh_reflect.h
py=/usr/bin/python3

[ -x "$py" ] || { echo "FAIL: no $py (make deps)"; exit 1; }
$py -c 'import yaml, jsonschema' 2>/dev/null ||
	{ echo "FAIL: python3-yaml and python3-jsonschema are needed (make deps)"; exit 1; }
cache=$("$top/Documentation/netlink/ynl-gen.sh" --ynl) ||
	{ echo "FAIL: no YNL (see above)"; exit 1; }
src=$(basename "$cache" | sed 's/^ynl-//; s/-[0-9]*$//')
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
    elif c['type'] == 'flags':
        # the header defines flags as macros, not as an enum
        pfx = c.yaml.get('name-prefix', f"{fam.ident_name}-{name}-")
        for e in c.entries.values():
            expect[c_upper(pfx + e.name)] = e.user_value()
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

# The tables khctl and khnl.py keep by hand, against the spec.
KH_YNL=$ynl KH_SPEC=$spec KH_SCHEMA=$schema KH_TOP=$top $py - <<'EOF'
import glob, importlib.util, os, re, sys

sys.path.insert(0, os.environ['KH_YNL'])
from lib import SpecFamily

top = os.environ['KH_TOP']
fam = SpecFamily(os.environ['KH_SPEC'], os.environ['KH_SCHEMA'])
bad = []

def c_upper(name):
    return name.upper().replace('-', '_')

ops = {c_upper('kh-cmd-' + op.name): op for op in fam.msgs.values()}
attrs = {}           # C name of an attribute -> the spec's attribute
for aset in fam.attr_sets.values():
    for a in aset.attrs.values():
        attrs[c_upper(aset.yaml['name-prefix'] + a.name)] = a

# khnl.py: every command and attribute of the spec, by its number.
path = f'{top}/selftests/tools/khnl.py'
loader = importlib.util.spec_from_file_location('khnl', path)
khnl = importlib.util.module_from_spec(loader)
loader.loader.exec_module(khnl)
for cname, op in ops.items():
    name = cname[len('KH_CMD_'):]
    if getattr(khnl, name, None) != op.value:
        bad.append(f"khnl.py: {name} is {getattr(khnl, name, None)}, the spec's {cname} {op.value}")
kh_attrs = {n: a for n, a in attrs.items() if n.startswith('KH_A_')}
for cname, a in kh_attrs.items():
    if a.type == 'unused':
        continue
    name = cname[len('KH_'):]
    if getattr(khnl, name, None) != a.value:
        bad.append(f"khnl.py: {name} is {getattr(khnl, name, None)}, the spec's {cname} {a.value}")
for name in dir(khnl):
    if name.startswith('A_') and 'KH_' + name not in kh_attrs:
        bad.append(f"khnl.py: {name} is no attribute of the spec")

# khctl: its policies and its requests, in genl-tool/*.c.
nla = {'NLA_U8': 'u8', 'NLA_U16': 'u16', 'NLA_U32': 'u32', 'NLA_U64': 'u64',
       'NLA_STRING': 'string', 'NLA_NUL_STRING': 'string',
       'NLA_NESTED': 'nest', 'NLA_FLAG': 'flag'}
lens = {'KH_KEY_LEN': 'kh-key-len', 'KH_NONCE_LEN': 'kh-nonce-len'}
policies = requests = 0
for f in sorted(glob.glob(f'{top}/genl-tool/*.c')):
    rel = os.path.relpath(f, top)
    text = re.sub(r'/\*.*?\*/', '', open(f).read(), flags=re.S)
    for body in re.findall(r'struct nla_policy\s+\w+\[KH_\w*MAX \+ 1\]\s*=\s*\{(.*?)\n\};',
                           text, re.S):
        policies += 1
        for name, pol in re.findall(r'\[(KH_\w+)\]\s*=\s*\{([^}]*)\}', body):
            a = attrs.get(name)
            if a is None:
                bad.append(f"{rel}: a policy of {name}, which the spec does not have")
                continue
            t = re.search(r'\.type\s*=\s*(\w+)', pol)
            want = nla.get(t.group(1), t.group(1)) if t else 'binary'
            if want != a.type:
                bad.append(f"{rel}: the policy of {name} says {want}, the spec {a.type}")
            lo = re.search(r'\.minlen\s*=\s*([^,}]*?)\s*(,|$)', pol)
            hi = re.search(r'\.maxlen\s*=\s*([^,}]*?)\s*(,|$)', pol)
            exact = a.yaml.get('checks', {}).get('exact-len')
            if want == 'binary' and lo and hi and lo.group(1) == hi.group(1) and \
               lens.get(lo.group(1), lo.group(1)) != exact:
                bad.append(f"{rel}: the policy of {name} wants {lo.group(1)} bytes, the spec {exact}")
    # each function that makes a request of the family, and what it puts in
    for fn in re.findall(r'\n\w[^;{}]*\)\n\{\n(.*?)\n\}', text, re.S):
        m = re.search(r'\w+_msg\([\w>-]+,\s*(KH_CMD_\w+),[^)]*?(NLM_F_DUMP)?\)', fn)
        if not m:
            continue
        requests += 1
        cmd, dump = m.group(1), bool(m.group(2))
        op = ops.get(cmd)
        if op is None:
            bad.append(f"{rel}: a request of {cmd}, which the spec does not have")
            continue
        if dump != ('dump' in op.yaml):
            bad.append(f"{rel}: {cmd} sent {'as' if dump else 'not as'} a dump")
        take = op.yaml.get('do', {}).get('request', {}).get('attributes', [])
        for put, name in re.findall(r'nla_put(?:_(\w+))?\(\s*msg,\s*(KH_A_\w+)', fn):
            a = attrs.get(name)
            if a is None or a.name not in take:
                bad.append(f"{rel}: {cmd} with {name}, which its request in the spec does not list")
            elif (put or 'binary') != a.type:
                bad.append(f"{rel}: {name} put as {put or 'binary'}, the spec says {a.type}")
if not policies or not requests:
    bad.append(f"genl-tool: {policies} policies and {requests} requests of the family "
               "found: this check no longer reads khctl")
for b in bad:
    print(b)
if bad:
    print("FAIL: the tables of khctl or khnl.py and the spec disagree")
    sys.exit(1)
print(f"khnl.py and khctl agree with the spec: {policies} policies, {requests} requests")
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
