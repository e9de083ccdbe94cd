# mydocker-runc — build, test, bench, install.
# `make test` is what CI runs (through .ci/run); it needs root and a real kernel.
SHELL := /bin/bash
NODE ?= node
PREFIX ?= /usr/local
# Every Node start pays ~60 ms to parse NODE_EXTRA_CA_CERTS; the runtime never speaks TLS.
unexport NODE_EXTRA_CA_CERTS

.PHONY: all setup build gen check test test-unit test-integration bench install clean rootfs run default-image

ROOTFS := bundles/rootfs

all: build default-image

# Everything a fresh Debian 12 machine lacks (apt packages, node_modules).
setup:
	src/build/setup.sh

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

# Generated code (types and precompiled validators) comes from schemas/.
gen: node_modules/.package-lock.json
	$(NODE) src/build/gen-spec.mjs

# dist/: the programs, the native init (C, src/build/build-native.sh), and the embedded default
# image (busybox:latest) that mydocker loads on first need, offline: a reproducible docker-save
# archive of a fresh make-rootfs.sh rootfs (not bundles/rootfs, which the runtime's tests add
# mountpoints to).
DEFAULT_IMAGE := dist/images/busybox.tar
build: node_modules/.package-lock.json
	$(NODE) src/build/build.mjs
	src/build/build-native.sh
	$(NODE) build/src/build/default-image.js $(DEFAULT_IMAGE)

check: build
	npx tsc -p tsconfig.json

test-unit: build
	$(NODE) --test --test-concurrency=1 build/test/unit/

# The busybox rootfs every fixture bundle in bundles/ points at.
rootfs: $(ROOTFS)/bin/busybox
$(ROOTFS)/bin/busybox: src/build/make-rootfs.sh
	src/build/make-rootfs.sh $(ROOTFS)

default-image: build

test-integration: build rootfs default-image
	$(NODE) --test --test-concurrency=1 build/test/integration/

# Everything CI runs: types, unit tests, the real-kernel suite, containerd's shim driving us,
# and the cgroup tests on a pure cgroup v2 kernel (skipped where ../shared/tools is absent).
test: setup
	$(MAKE) check test-unit test-integration test-containerd test-cgroup2

# The main job: mydocker runs a busybox container from its embedded busybox image (offline),
# without a network (the default bridge, like docker0, would stay on the host after it).
run: setup
	$(MAKE) build
	$(NODE) dist/mydocker.js run --rm --network none busybox \
	  sh -c 'echo "Hello from busybox: I am PID $$$$ on $$(hostname), with $$(ls /proc | grep -c "^[0-9]") processes in sight"'

# Side by side with Debian's runc on the busybox bundle: one table (test/bench/bench.mjs); the CNI
# plugins against the reference chain (test/bench/cni.mjs); the image store (test/bench/images.mjs); registry pulls (test/bench/registry.mjs).
# Never fails on a time. BENCH_FLAGS="--runs 50 --trace --readme" for more runs, where our time
# goes, and README.md's Performance section (and the CNI figures in its Networking section).
bench: build rootfs default-image
	$(NODE) test/bench/bench.mjs $(BENCH_FLAGS)
	$(NODE) test/bench/cni.mjs $(BENCH_FLAGS)
	$(NODE) test/bench/images.mjs
	$(NODE) test/bench/mydocker.mjs $(BENCH_FLAGS)
	$(NODE) test/bench/registry.mjs

install: build default-image
	ln -sf $(CURDIR)/dist/mydocker-runc.js $(PREFIX)/bin/mydocker-runc
	for b in mydocker-bridge mydocker-ipam mydocker-cni-hook; do ln -sf $(CURDIR)/dist/$$b.js $(PREFIX)/bin/$$b; done
	mkdir -p $(PREFIX)/lib/cni
	for p in mydocker-bridge mydocker-ipam; do ln -sf $(CURDIR)/dist/$$p.js $(PREFIX)/lib/cni/$$p; done
	ln -sf $(CURDIR)/dist/mydocker.js $(PREFIX)/bin/mydocker

clean:
	rm -rf build dist .cache $(ROOTFS)

# containerd 1.6 (ctr → runc v2 shim) drives busybox with runc as the control, then with
# mydocker-runc; a private containerd under a temp dir, removed at the end. A few minutes.
.PHONY: test-containerd
test-containerd: build rootfs
	src/build/containerd-deps.sh
	$(NODE) --test --test-concurrency=1 --test-timeout=600000 build/test/clients/

# The cgroup tests, and the native init's namespaces and exec, on a pure cgroup v2 kernel: a
# throwaway VM from ../shared/tools (about five minutes). A user's clone has no ../shared:
# then the target says so and succeeds.
CGROUP2_VM := ../shared/tools/run-in-cgroup2-vm
# What the default bridge's rules need (iptables-nft's xtables matches and targets): the VM's
# kernel cannot autoload modules (no /sbin/modprobe there), so they are loaded first.
VM_NET_MODULES := nft_compat nft_chain_nat xt_MASQUERADE xt_comment xt_conntrack xt_addrtype xt_nat xt_tcpudp xt_mark xt_multiport br_netfilter
.PHONY: test-cgroup2
test-cgroup2: build rootfs
	@if [ ! -x $(CGROUP2_VM) ]; then \
	  echo "test-cgroup2: skipped: $(CGROUP2_VM) does not exist (the cgroup v2 VM tool lives outside the project)"; \
	  exit 0; \
	fi; \
	$(CGROUP2_VM) $(CURDIR) -- node --test --test-concurrency=1 build/test/unit/cgroups.test.js \
	  build/test/integration/cgroups.test.js build/test/integration/resources.test.js build/test/integration/lifecycle.test.js \
	  build/test/integration/userns.test.js build/test/integration/no-mount-ns.test.js build/test/integration/exec.test.js
	@if [ -x $(CGROUP2_VM) ]; then \
	  echo "test-cgroup2: mydocker (conmon, overlayfs, the default bridge, resources, pause, exit codes) on cgroup v2"; \
	  $(CGROUP2_VM) -x /usr/bin/conmon -x /usr/sbin/iptables-restore -x /usr/sbin/iptables-save \
	    $$(for m in /usr/lib/*-linux-gnu/xtables/*.so; do printf ' -x %s' "$$m"; done) \
	    $(CURDIR) -- sh -c 'for m in $(VM_NET_MODULES); do modprobe $$m 2>/dev/null; done; exec "$$@"' sh \
	    node --test --test-concurrency=1 \
	    --test-name-pattern='resources reach|exits on its own|pause freezes|output and exit codes|stop, kill, rm' \
	    build/test/integration/mydocker-run.test.js build/test/integration/mydocker-lifecycle.test.js; \
	fi
