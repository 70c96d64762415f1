# Touchstone: `make run` starts the whole suite with demo data; `make test` runs every test.
SHELL := /bin/bash
CARGO ?= cargo
# Integration tests mostly wait on PostgreSQL and RabbitMQ, so run more than one per core.
export RUST_TEST_THREADS ?= 6
SERVICE ?= leads
SEED ?= 42

.PHONY: run test bench chaos services build lint fmt events dlq-peek dlq-replay demo clean-test-state openapi layers

# PostgreSQL, RabbitMQ and HAProxy up (installed if missing), and every service's own
# PostgreSQL role and RabbitMQ user (least privilege; passwords in .run/secrets).
services:
	@bash deploy/scripts/ensure-services.sh
	@bash deploy/scripts/provision.sh

# Optimised binaries, the same ones `make bench` measures (the release profile), so every
# figure in docs/benchmarks.md holds for what `make run` starts. `make test` stays on the
# debug profile.
build: services
	$(CARGO) build --release --workspace --bins

# REPLICAS instances of every service behind the gateway (make run REPLICAS=2).
REPLICAS ?= 1
run: build
	@SEED=$(SEED) REPLICAS=$(REPLICAS) bash deploy/scripts/run.sh

# The gateway's tests run the services' own binaries and HAProxy, so the binaries are built
# first.
test: services layers
	$(CARGO) build --workspace --bins
	$(CARGO) test --workspace --no-fail-fast

# Regenerates the gateway's aggregated OpenAPI document and routing maps (deploy/gateway)
# from the services' own documents; a test fails when they are stale.
openapi:
	$(CARGO) build --workspace --bins
	./target/debug/touchstone gateway openapi

# A seeded fault schedule (SIGKILLs, broker and database restarts, a 30 s broker cut,
# poison messages) under load against the suite as `make run REPLICAS=2` starts it; the
# invariants and recovery times go to docs/reliability.md. Not part of `make test`.
CHAOS_SEED ?= 7
CHAOS_SECONDS ?= 240
chaos: build
	@CHAOS_SEED=$(CHAOS_SEED) CHAOS_SECONDS=$(CHAOS_SECONDS) bash deploy/scripts/chaos.sh

# Python peers of the benchmarks (DuckDB; ChannelAttribution, which builds from source and imports matplotlib).
BENCH_VENV ?= target/bench-venv

# The bench connects to PostgreSQL over loopback without TLS (this machine's PostgreSQL
# offers TLS, which libpq's default `prefer` takes); pgbench and psql inherit the setting.
bench: services
	$(CARGO) build --release -p bench -p leads -p touchpoints -p funnel -p breakeven -p cli
	@test -x $(BENCH_VENV)/bin/python || python3 -m venv $(BENCH_VENV)
	@$(BENCH_VENV)/bin/python -c "import duckdb, ChannelAttribution" >/dev/null 2>/dev/null \
	  || $(BENCH_VENV)/bin/pip install -q duckdb matplotlib ChannelAttribution \
	  || echo "bench: could not install the Python peers; their rows will say baseline unavailable"
	PGSSLMODE=$${PGSSLMODE:-disable} BENCH_PYTHON=$(BENCH_VENV)/bin/python ./target/release/bench --output docs/benchmarks.md

# The layer rule (docs/architecture.md): pure domains, store/ below use cases.
layers:
	bash deploy/scripts/check-layers.sh --self-test
	bash deploy/scripts/check-layers.sh crates

lint: layers
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

# Prints every event on the exchange as it passes.
events:
	@$(CARGO) run -q -p cli -- events tail

demo:
	@$(CARGO) run -q -p cli -- demo --seed $(SEED)

# With the service's own broker account (.run/secrets/<service>.env) when provisioned.
SERVICE_ENV = set -a; if [ -f .run/secrets/$(SERVICE).env ]; then . .run/secrets/$(SERVICE).env; fi; set +a
dlq-peek:
	@$(SERVICE_ENV); $(CARGO) run -q -p cli -- dlq peek $(SERVICE)

dlq-replay:
	@$(SERVICE_ENV); $(CARGO) run -q -p cli -- dlq replay $(SERVICE)

# Drops databases left by interrupted test runs (tests drop their own when they finish).
clean-test-state:
	@psql -h 127.0.0.1 -U postgres -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'test\_%'" \
	  | while read -r db; do psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE \"$$db\" WITH (FORCE)"; done
