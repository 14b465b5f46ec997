# CRIS Field: the two commands a new machine needs.
#   make run    installs what is missing, builds the app, serves it on http://127.0.0.1:8080
#   make test   installs what is missing (Chromium too), then runs every check and test

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := run

# Tools installed by scripts/install-tools.sh land here; make them visible to every step.
export PATH := $(HOME)/.cargo/bin:$(shell npm prefix -g 2>/dev/null || echo /usr/local)/bin:$(PATH)

ADDR ?= 127.0.0.1:8080
# The case store; empty: the SQLite file data/cris.db (e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/cris).
DATABASE_URL ?=

.PHONY: run test app tools test-tools

tools:
	scripts/install-tools.sh build

test-tools:
	scripts/install-tools.sh test

# The phone app: app/dist, built by trunk with the size-optimised profile, tools from PATH.
app: tools
	cd app && trunk build --release --offline

run: app
	cargo run --release -p cris-server -- serve --demo --addr $(ADDR) $(if $(DATABASE_URL),--database-url $(DATABASE_URL))

test: test-tools app
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo test --workspace
	CHROMEDRIVER=/usr/bin/chromedriver cargo test -p cris-app --target wasm32-unknown-unknown --tests
