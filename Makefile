# policylist: the two commands are `make run` (main job on embedded data) and `make test`.
SWIFT ?= swift
CONFIG ?= release
BIN = $(shell $(SWIFT) build -c $(CONFIG) --show-bin-path)

.PHONY: deps build run test lint bench bench-quick fuzz clean

deps:
	@scripts/install-deps

build: deps
	$(SWIFT) build -c $(CONFIG)

# The main job: the final publication pipeline on the embedded data, into out/.
run: build
	scripts/run-main $(BIN)

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

# Unit, end-to-end and peer tests; the end-to-end tests run the built debug executables.
test: deps lint
	$(SWIFT) build
	POLICYLIST_BIN_DIR=$$($(SWIFT) build --show-bin-path) POLICYLIST_VENV=$(CURDIR)/.venv $(SWIFT) test

# Every workload of the issues at full size, ours next to the peers' (minutes; docs/scaling.md).
bench: build
	bench/run $(BIN)

# The same at small sizes (a smoke run; skips the 10 M-line import).
bench-quick: build
	bench/run --quick $(BIN)

clean:
	rm -rf .build out bench/work
