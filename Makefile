# One set of commands for people, the README and CI. Everything runs through .venv/bin, so no
# activation is needed; the virtualenv is made (and refreshed when the dev lock changes) on first
# use. Requirements: each image's hand-edited pins are a `.in` file; `make lock` turns them into
# hashed locks (`requirements.txt`), and everything installs from the locks with hashes checked.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-installed
# The dev lock is the union of every image's lock, plus the tools.
REQUIREMENTS := requirements-dev.txt
ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv lock audit notices dev test lint fmt typecheck up bench bench-console bench-knowledge soak compose-test console console-test

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

venv: $(STAMP) ## create .venv and install the dev lock, hashes checked (again when it changes)

# --no-deps: the lock already names every package; --require-hashes: nothing else gets in.
$(STAMP): $(REQUIREMENTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check --require-hashes --no-deps \
		-r requirements-dev.txt
	touch $@

lock: venv ## regenerate every lock from its .in with uv (ARGS="--upgrade-package NAME" to bump)
	$(BIN)/python -m scripts.lock $(ARGS)

audit: venv ## pip-audit every lock against PyPI's vulnerability data
	$(BIN)/python -m scripts.audit

notices: venv ## rewrite THIRD_PARTY_NOTICES.md from the locked packages' metadata
	$(BIN)/python -m scripts.notices

dev: venv ## run every service as local processes (no Docker), in the foreground
	test -f console/dist/index.html || $(MAKE) console
	$(BIN)/python -m scripts.dev

test: venv ## run the tests (extra pytest arguments: make test ARGS="-k chat -x")
	$(BIN)/python -m pytest $(ARGS)

lint: venv ## ruff (lint + format check), mypy and pip-audit of every lock
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/python -m scripts.audit

fmt: venv ## format the code and apply safe lint fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: venv ## mypy only
	$(BIN)/mypy .

up: ## build the images and start everything with docker compose (settings: .env.example)
	docker compose up --build

compose-test: venv ## build the images and run docker-compose.yml for real (root; starts dockerd if needed)
	$(BIN)/python -m pytest -m compose tests/compose $(ARGS)

# The web console (console/): npm packages from the committed lock, then a build into
# console/dist, which the api serves at /. Needs Node.js 20+ and npm; the build is not committed.
CONSOLE_STAMP := console/node_modules/.installed

$(CONSOLE_STAMP): console/package-lock.json
	cd console && npm ci --no-audit --no-fund
	touch $@

console: $(CONSOLE_STAMP) ## build the web console into console/dist (type-checked)
	cd console && npm run build

console-test: $(CONSOLE_STAMP) ## the console's unit tests (the SSE parser, the turn reducer)
	cd console && npm test

bench: venv ## chat overhead benchmark: the fake LLM directly vs through AION
	$(BIN)/python -m bench.chat_overhead $(ARGS)

bench-console: venv console ## the console's budgets in headless chromium (JS size, long conversation, TTFT)
	$(BIN)/python -m bench.console $(ARGS)
soak: venv ## mixed traffic for a while, then does anything grow? (ARGS="--duration 30m")
	$(BIN)/python -m bench.soak $(ARGS)
# A few minutes on 2 cores (mostly building the HNSW indexes); ARGS="--chunks 10000" is quicker.
bench-knowledge: venv ## knowledge base: indexing pages/s, search p95 at 100k chunks beside memory's
	$(BIN)/python -m bench.knowledge $(ARGS)
