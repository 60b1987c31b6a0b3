# Two commands from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
CONFIG ?= homeserver.yaml

.PHONY: run test install config migrate clean sytest sytest-check bench-sliding-sync

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The server's own requirements only: what `pip install .` gives a self-hoster.
$(STAMP): $(BIN)/python setup.py setup.cfg
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

# The test extras (client libraries, schemathesis) go in only for `make test`.
$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

install: $(STAMP)

$(CONFIG): | $(STAMP)
	HOMESERVER_CONFIG=$(CONFIG) $(BIN)/homeserver generate-config --server-name localhost:8008 --data-dir data

config: $(CONFIG)

migrate: $(STAMP) $(CONFIG)
	HOMESERVER_CONFIG=$(CONFIG) $(BIN)/homeserver migrate

# Serves on 127.0.0.1:8008 (server name localhost:8008, SQLite in ./data).
run: migrate
	HOMESERVER_CONFIG=$(CONFIG) $(BIN)/gunicorn --config gunicorn.conf.py

# Runs the whole suite on SQLite, and on PostgreSQL when one answers at 127.0.0.1:5432
# (REQUIRE_POSTGRES=1 makes a missing PostgreSQL a failure, as CI does).
test: $(TEST_STAMP)
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .sytest

# SyTest (the Matrix integration suite) against this working tree's server, started by
# tests/sytest/launch.py under gunicorn.conf.py; then tests/sytest/check.py compares the results
# with tests/sytest/expected-failures.txt. SYTEST_ARGS picks test files (e.g. tests/31sync),
# SYTEST_DATABASE=postgresql runs on a fresh PostgreSQL database at 127.0.0.1:5432.
SYTEST_DIR ?= ../shared/sytest
SYTEST_OUT ?= .sytest/$(SYTEST_DATABASE)
SYTEST_DATABASE ?= sqlite
SYTEST_ARGS ?=

sytest: $(STAMP)
	rm -rf $(SYTEST_OUT)
	SYTEST_DIR= SYTEST_DATABASE=$(SYTEST_DATABASE) $(SYTEST_DIR)/run.sh \
		--hs-command '$(abspath $(BIN)/python) tests/sytest/launch.py' --hs-cwd $(CURDIR) \
		--out $(SYTEST_OUT) $(SYTEST_ARGS)
	$(MAKE) --no-print-directory sytest-check

# Compares the last run (SYTEST_OUT) with the expected-failures list again.
sytest-check:
	$(BIN)/python tests/sytest/check.py $(SYTEST_OUT)/summary.json

# Every scenario of issue 18 against this server and Synapse (installed into .bench-venv), both
# running at once, on SQLite and then PostgreSQL; writes the table into docs/performance.md.
# BENCH_ARGS="--database postgresql" runs one database; `--help` lists the sizes.
BENCH_STAMP := .bench-venv/.installed
$(BENCH_STAMP):
	$(PYTHON) -m venv .bench-venv
	.bench-venv/bin/pip install --quiet 'matrix-synapse[postgres]'
	touch $(BENCH_STAMP)

.PHONY: bench
bench: $(TEST_STAMP) $(BENCH_STAMP)
	$(BIN)/python bench/bench.py $(BENCH_ARGS)

# Sliding sync (MSC4186) for a user in 1,000 rooms: first response, incremental, long-poll.
bench-sliding-sync: $(TEST_STAMP) $(BENCH_STAMP)
	$(BIN)/python bench/bench_sliding_sync.py $(BENCH_ARGS)
