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
# Suites that assert timeouts and promptness run in a second pass on their own: in one parallel run, other
# suites' blocking process waits can hold the 2-core test pool long enough to make a prompt answer look late.
# The runner's end-to-end suite is such a blocker itself (synchronous tests that wait for processes on the
# shared pool: four prompt-failure tests once resumed 8 s late behind it), so it gets a third pass.
TIMED = NetIntegrationTests|NetBlockingPoolTests|NetFailureTests|LiveNetworkTests|ConcurrencyTests
BLOCKING = RunnerEndToEndTests
TESTENV = POLICYLIST_BIN_DIR=$$($(SWIFT) build --show-bin-path) POLICYLIST_VENV=$(CURDIR)/.venv

test: deps lint
	$(SWIFT) build --build-tests
	$(TESTENV) $(SWIFT) test --skip '$(TIMED)|$(BLOCKING)'
	$(TESTENV) $(SWIFT) test --filter '$(TIMED)'
	$(TESTENV) $(SWIFT) test --filter '$(BLOCKING)'

# Every workload of the issues at full size, ours next to the peers' (minutes; docs/scaling.md).
bench: build
	bench/run $(BIN)

# The same at small sizes (a smoke run; skips the 10 M-line import).
bench-quick: build
	bench/run --quick $(BIN)

# The long hostile-input campaign (docs/reliability.md): FUZZ_CASES seeded mutation cases in a release build,
# the domain-count limit (a 5,000,001-domain list), then each libFuzzer harness for FUZZ_SECONDS.
FUZZ_CASES ?= 1000000
FUZZ_SEED ?= 1
FUZZ_SECONDS ?= 60
fuzz: deps
	$(SWIFT) build -c release --product policylist-fuzz
	$$($(SWIFT) build -c release --show-bin-path)/policylist-fuzz --cases $(FUZZ_CASES) --seed $(FUZZ_SEED)
	$$($(SWIFT) build -c release --show-bin-path)/policylist-fuzz --domain-limit
	fuzz/libfuzzer/run $(FUZZ_SECONDS)

clean:
	rm -rf .build out bench/work fuzz/libfuzzer/work
