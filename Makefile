# mydocker-runc — build, test, bench, install.
# `make test` is what CI runs (through .ci/run); it needs root and a real kernel.
SHELL := /bin/bash
NODE ?= node
PREFIX ?= /usr/local
# Every Node start pays ~60 ms to parse NODE_EXTRA_CA_CERTS; the runtime never speaks TLS.
unexport NODE_EXTRA_CA_CERTS

.PHONY: all build gen check test test-unit test-integration bench install clean rootfs

ROOTFS := bundles/rootfs

all: build

node_modules/.package-lock.json: package.json
	npm install --no-audit --no-fund
	@touch $@

# Generated code (types and precompiled validators) comes from schemas/.
gen: node_modules/.package-lock.json
	$(NODE) scripts/gen-spec.mjs

build: node_modules/.package-lock.json
	$(NODE) scripts/build.mjs

check: build
	npx tsc -p tsconfig.json

test-unit: build
	$(NODE) --test --test-concurrency=1 build/test/unit/

# The busybox rootfs every fixture bundle in bundles/ points at.
rootfs: $(ROOTFS)/bin/busybox
$(ROOTFS)/bin/busybox: scripts/make-rootfs.sh
	scripts/make-rootfs.sh $(ROOTFS)

test-integration: build rootfs
	$(NODE) --test --test-concurrency=1 build/test/integration/

test: check test-unit test-integration

install: build
	ln -sf $(CURDIR)/dist/mydocker-runc.js $(PREFIX)/bin/mydocker-runc

clean:
	rm -rf build dist .cache $(ROOTFS)
