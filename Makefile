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

bench: setup
	$(BIN)/python bench/classify.py
	$(BIN)/python bench/personas.py
	$(BIN)/python bench/model.py
	$(BIN)/python bench/sms.py
	$(BIN)/python bench/daemon.py
	$(BIN)/python bench/reports.py
	$(BIN)/python bench/web.py
	$(BIN)/python bench/hostile.py

clean:
	rm -rf $(VENV) .pytest_cache
