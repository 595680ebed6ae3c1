#!/bin/bash
# A short run of the libFuzzer target for the probe wire format (make fuzz
# runs it for ten minutes): no crash, and the round-trip properties hold.
top=$(cd "$(dirname "$0")/../.." && pwd)
command -v clang >/dev/null || { echo "FAIL: no clang (make deps)"; exit 1; }
out=$(make -s -C "$top/selftests/unit" fuzz FUZZ_SECONDS="${KH_FUZZ_SECONDS:-30}" 2>&1)
rc=$?
if [ "$rc" != 0 ]; then
	echo "$out" | tail -n 40
	echo "FAIL: the fuzzer found a crash (artifact in selftests/unit/build/)"
	exit 1
fi
echo "$out" | grep -E '^(Done|stat::(number_of_executed_units|new_units_added))'
