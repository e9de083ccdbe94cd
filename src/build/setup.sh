#!/bin/sh
# Install what a fresh Debian 12 machine lacks to build, run and test mydocker-runc.
# Idempotent and quick when everything is there (it only calls apt-get for missing packages).
set -eu
cd "$(dirname "$0")/../.."

# busybox-static: the rootfs of every fixture; runc: the side-by-side control in tests and bench;
# containerd: the client suite; iproute2/iptables: network tests; bsdutils (script) and tmux:
# terminal tests; umoci/skopeo: image archives; file: checks that busybox is static; podman:
# the image store's round-trip control and mydocker's behaviour control; xz-utils/zstd: xz and
# zstd archives and layers; conmon: mydocker's per-container monitor (what stays with a
# detached container: its stdio, its log, its exit status); containernetworking-plugins: the
# reference CNI chain the network tests and bench compare with; socat: UDP in the network tests
# (busybox has no UDP server, Debian's busybox nc no -u); docker-registry: the real registry
# pull/push are tested against (on 127.0.0.1 only); apache2-utils: htpasswd (bcrypt) for its
# basic auth; gcc/libc6-dev: the runtime's native init (src/process/native/init.c); tini:
# `mydocker run --init`'s docker-init (its static build needs nothing from the image).
PACKAGES="busybox-static runc containerd iproute2 iptables bsdutils tmux umoci skopeo file podman xz-utils zstd conmon containernetworking-plugins socat docker-registry apache2-utils gcc libc6-dev tini"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
  # docker-registry's package starts a system-wide registry on :5000 where systemd runs;
  # the tests start their own on 127.0.0.1 and nothing needs that one.
  case " $missing " in *" docker-registry "*)
    if [ -d /run/systemd/system ]; then systemctl disable --now docker-registry >/dev/null 2>&1 || true; fi ;;
  esac
fi

# Node dependencies, exactly as locked.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
