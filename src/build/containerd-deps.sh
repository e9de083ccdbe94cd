#!/bin/sh
# What `make test-containerd` needs beyond the build: containerd (ctr and the runc v2 shim),
# Debian's runc (the control the suite runs first) and script(1) (ctr -t wants a terminal).
# apt-get runs only when one of them is missing. The busybox image is written by the suite
# itself (test/helpers/containerd-image.ts), so umoci and skopeo are not needed.
set -eu
missing=""
command -v containerd >/dev/null 2>&1 && command -v ctr >/dev/null 2>&1 &&
  command -v containerd-shim-runc-v2 >/dev/null 2>&1 || missing="$missing containerd"
command -v runc >/dev/null 2>&1 || missing="$missing runc"
command -v script >/dev/null 2>&1 || missing="$missing bsdutils"
command -v tar >/dev/null 2>&1 || missing="$missing tar"
if [ -n "$missing" ]; then
  echo "containerd-deps: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
