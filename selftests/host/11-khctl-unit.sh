#!/bin/bash
# khctl's own parsing and formatting, under ASan/UBSan.
set -e
top=$(cd "$(dirname "$0")/../.." && pwd)
make -s -C "$top/genl-tool" test
