#!/bin/bash
# The probe parser and builder, built in userspace under ASan/UBSan.
set -e
top=$(cd "$(dirname "$0")/../.." && pwd)
make -s -C "$top/selftests/unit" test
