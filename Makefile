# The project's commands. `make dev` and `make test` work on a fresh machine: they install
# what they need (Python virtual environment with moto, cfn-lint, cargo-lambda, zig) themselves.

SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help venv dev test lint fmt unit bench bench-process package coldstart e2e-browser fuzz fuzz-api load check-pool clean-venv

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

venv: ## Create .venv with moto, cfn-lint, cargo-lambda and zig
	@scripts/bootstrap-venv.sh

dev: venv ## Local stack on http://127.0.0.1:3000 (Ctrl-C stops it)
	cargo run --quiet -p local-gateway -- $(DEV_ARGS)

test: venv ## Formatting, lints, template lint, unit and end-to-end tests
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	$(VENV)/bin/cfn-lint infra/template.yaml
	# checkov's policy checks: none may fail; each one skipped says why in the template's Metadata.
	$(VENV)/checkov/bin/checkov -f infra/template.yaml --framework cloudformation --compact --quiet --skip-download
	# The template after SAM's transform, as CloudFormation deploys it, linted too. SAM inlines
	# AuthorizerCacheSeconds into the authorizer's TTL, so that parameter looks unused (W2001).
	mkdir -p target
	$(VENV)/checkov/bin/python tests/infra/sam_transform.py > target/template.transformed.json
	$(VENV)/bin/cfn-lint --ignore-checks W2001 -- target/template.transformed.json
	# The function binaries the end-to-end log check runs (debug, and sign_in as deployed).
	cargo build --workspace --bins --tests --locked
	cargo build --release --locked -p sign_in
	cargo test --workspace --locked
	# The API contract, property-based, against a fresh local stack (bounded, fixed seed).
	$(VENV)/bin/python tests/contract/run_schemathesis.py
	# A client generated from the contract, without a warning, reads a journey's problems.
	$(VENV)/bin/python tests/contract/generated_client.py

fmt: ## Format the code
	cargo fmt --all

bench: ## Authorizer benchmarks (see BENCHMARKS.md)
	cargo bench -p lambda-authorizer --bench authorizer

# The commit before the process-cost work: what `make bench-process` compares with.
BENCH_BASELINE ?= 7ab5bb50e2badf5d7e4fa0c9046f0570c16307bb

bench-process: venv ## Whole-process CPU per invocation and RSS, this tree vs BENCH_BASELINE (BENCH_ROUNDS, BENCH_INVOCATIONS)
	BENCH_BASELINE=$(BENCH_BASELINE) cargo run --quiet -p lambda-harness --bin bench_process

package: venv ## Build every function for arm64 into zips under target/lambda/ and check the size budgets
	scripts/package.sh

coldstart: venv ## Cold-start figures of every function (COLDSTART_RUNS, default 20; see BENCHMARKS.md)
	cargo run --quiet -p lambda-harness --bin coldstart

e2e-browser: venv ## The managed-login sign-in in headless Chromium (installs Debian's chromium and selenium)
	@scripts/browser-deps.sh
	cargo build --quiet --locked -p local-gateway
	$(VENV)/bin/python tests/browser/oauth_journey.py

fuzz: ## Each fuzz target for FUZZ_SECONDS (default 60) under libFuzzer (installs cargo-fuzz)
	@command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
	@for target in $$(cargo fuzz list --fuzz-dir fuzz); do \
		echo "fuzzing $$target for $${FUZZ_SECONDS:-60} s"; \
		mkdir -p target/fuzz-corpus/$$target; \
		cargo fuzz run --fuzz-dir fuzz --sanitizer none $$target target/fuzz-corpus/$$target fuzz/corpus/$$target -- \
			-max_total_time=$${FUZZ_SECONDS:-60} -max_len=16384 -print_final_stats=1 || exit 1; \
	done

fuzz-api: venv ## The API contract with schemathesis: 200 examples per operation, stateful phase
	cargo build --quiet --locked -p local-gateway
	$(VENV)/bin/python tests/contract/run_schemathesis.py --long

load: venv ## 60 s of mixed load on the local stack (locust; LOAD_USERS, LOAD_SECONDS)
	cargo build --quiet --release --locked -p local-gateway
	$(VENV)/bin/python tests/load/run_load.py

check-pool: ## Check an existing pool and client before a deploy (POOL=<pool id> CLIENT=<client id>; AWS credentials)
	@test -n "$(POOL)" -a -n "$(CLIENT)" || { echo "usage: make check-pool POOL=<user pool id> CLIENT=<app client id>"; exit 2; }
	cargo run --quiet --locked -p check-pool -- $(POOL) $(CLIENT)

clean-venv: ## Remove the virtual environment
	rm -rf $(VENV)
