# SPDX-License-Identifier: GPL-3.0-or-later
# rvbench: two entry points.
#   make demo   builds the lab (cached), runs analysis/quickstart.yaml, prints the report path
#   make test   runs the whole test suite, including the tagged lab tests
SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin
SWIFT ?= swift
RVBENCH := .build/release/rvbench

.PHONY: deps build release workloads test test-phases unit-test demo clean

deps:
	@scripts/deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

workloads: deps
	$(MAKE) -C workloads
	$(MAKE) -C workloads/probe
	python3 workloads/probe/fixtures/sysfs/make-trees.py  # git keeps no empty directories

# Unit tests only: no lab, no cross-built workloads.
unit-test: build
	$(SWIFT) test --skip '.*(Lab(Integration|Run|Fault|Deterministic|Doctor)|FioLabRun|FreshInstall|KubeVirtLabRun)Tests.*'

# scripts/phase.sh times each phase; the summary comes last, failures included.
test: deps
	@scripts/phase.sh --reset
	@rc=0; $(MAKE) test-phases || rc=$$?; scripts/phase.sh --summary; exit $$rc

# rvbench and the tests run without this sub-make's MAKEFLAGS and MAKELEVEL (NOMAKE): a kernel build
# below them would inherit its print-directory flag and jobserver.
NOMAKE := env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES
test-phases:
	scripts/phase.sh workloads $(MAKE) workloads
	scripts/phase.sh "swift build" $(SWIFT) build --build-tests
	# Build the lab's artifacts before the tests (cached by content hash; the lab tests then reuse
	# them): mmdebstrap run from inside the test process has died of SIGPIPE.
	RVBENCH_WORKLOADS=$(CURDIR)/workloads/build/out scripts/phase.sh "lab build" \
	  $(NOMAKE) .build/debug/rvbench lab build --qemu trixie
	# The fresh-install test's clean Debian 12 root, also prebuilt (cached by the packages file's hash).
	if [ "$$(id -u)" = 0 ]; then scripts/phase.sh "fresh root" $(NOMAKE) scripts/fresh-root.sh >/dev/null; fi
	# services.sh run stops the services it started on every exit path, failures included.
	RVBENCH_WORKLOADS=$(CURDIR)/workloads/build/out scripts/phase.sh "swift test" \
	  $(NOMAKE) scripts/services.sh run $(SWIFT) test --skip-build

demo: release workloads
	@scripts/services.sh run sh -c 'rc=0; $(RVBENCH) lab build && $(RVBENCH) run analysis/quickstart.yaml || rc=$$?; \
	  $(RVBENCH) lab down || true; exit $$rc'

clean:
	rm -rf .build workloads/build
