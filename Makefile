# One set of commands for people, the README and CI. Everything runs through .venv/bin, so no
# activation is needed; the virtualenv is made (and refreshed when a requirements file changes)
# on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-installed
REQUIREMENTS := requirements-dev.txt migrations/requirements.txt $(wildcard services/*/requirements.txt)
ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv dev test lint fmt typecheck up bench compose-test

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

venv: $(STAMP) ## create .venv and install requirements-dev.txt (again when requirements change)

$(STAMP): $(REQUIREMENTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -r requirements-dev.txt
	touch $@

dev: venv ## run every service as local processes (no Docker), in the foreground
	$(BIN)/python -m scripts.dev

test: venv ## run the tests (extra pytest arguments: make test ARGS="-k chat -x")
	$(BIN)/python -m pytest $(ARGS)

lint: venv ## ruff (lint + format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

fmt: venv ## format the code and apply safe lint fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: venv ## mypy only
	$(BIN)/mypy .

up: ## build the images and start everything with docker compose (settings: .env.example)
	docker compose up --build

compose-test: venv ## build the images and run docker-compose.yml for real (root; starts dockerd if needed)
	$(BIN)/python -m pytest -m compose tests/compose $(ARGS)

bench: venv ## chat overhead benchmark: the fake LLM directly vs through AION
	$(BIN)/python -m bench.chat_overhead $(ARGS)
