# Two commands do all set-up: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup test-deps demo test train evaluate bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: setup
	$(BIN)/screener scan --config data/demo/config.toml --input data/demo/messages.jsonl

test: setup test-deps
	$(BIN)/python -m pytest

# Dovecot (real IMAP server tests) and Chromium (browser tests), from Debian.
test-deps:
	sh contrib/install-test-deps.sh

train: setup
	$(BIN)/screener train

evaluate: setup
	$(BIN)/screener evaluate

# Every script in bench/ (each rewrites its section of docs/benchmarks.md), then the intro records the
# run and names any section it did not rewrite. A failing script does not stop the others; make fails at the end.
bench: setup
	@started="$$(date -u '+%Y-%m-%d %H:%M UTC')"; failed=""; \
	for script in bench/[!_]*.py; do \
		echo "== $$script"; \
		$(BIN)/python "$$script" || failed="$$failed $$script"; \
	done; \
	$(BIN)/python bench/_report.py --full-run --started "$$started"; \
	if [ -n "$$failed" ]; then echo "make bench: failed:$$failed" >&2; exit 1; fi

clean:
	rm -rf $(VENV) .pytest_cache
