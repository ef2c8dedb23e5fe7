# Switchyard: the README's commands. `make run` and `make test` install what they need.
SHELL := /bin/bash
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: run serve build test test-rust test-real lint bench fuzz soak deps-build deps-test clean help

help:
	@echo "make run       install what is missing, build the desktop app and start it (gateway included)"
	@echo "make serve     build and run the headless gateway only (switchyard serve)"
	@echo "make test      install test dependencies, run every test suite, print a summary"
	@echo "make test-real the opt-in suite against a real local model (llama.cpp; slow first time)"
	@echo "make bench     benchmarks (results go to docs/PERFORMANCE.md by hand)"
	@echo "make fuzz      the fuzz targets, 1,000,000 inputs each (FUZZ_CASES), release mode"
	@echo "make soak      256 streaming clients through switchyard serve for 60 s (SOAK_SECS), then upstream failures"
	@echo "make lint      cargo fmt --check and clippy -D warnings"

deps-build:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

build: deps-build
	$(CARGO) build --release -p switchyard-cli

run:
	@scripts/desktop-run.sh

serve: build
	@scripts/run.sh

test:
	@scripts/test-all.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

bench:
	@scripts/bench.sh

fuzz:
	@scripts/fuzz.sh

soak:
	@scripts/soak.sh

test-real:
	@scripts/test-real.sh

clean:
	$(CARGO) clean
