#!/bin/sh
# The native init: src/process/native/init.c -> dist/mydocker-runc-init, with the system C
# compiler (setup.sh installs gcc and the libc headers). Run by `make build` after build.mjs
# (which empties dist/). Warnings are errors: the init is small, and stays clean.
set -eu
cd "$(dirname "$0")/../.."
CC=${CC:-cc}
command -v "$CC" >/dev/null 2>&1 || { echo "build-native: no C compiler ($CC); run make setup (installs gcc)" >&2; exit 1; }
mkdir -p dist
$CC -std=gnu11 -O2 -Wall -Wextra -Werror -Wno-unused-result -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
  -o dist/mydocker-runc-init.tmp src/process/native/init.c
mv dist/mydocker-runc-init.tmp dist/mydocker-runc-init
