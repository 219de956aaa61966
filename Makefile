# notifier — the two commands a newcomer needs are `make run` and `make test`.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PLUGINS := plugins/email_smtp plugins/sms_stub plugins/push_stub

.PHONY: run install migrate dev-env ensure-rabbitmq lint test chaos bench clean

$(STAMP): setup.py setup.cfg $(wildcard plugins/*/setup.py)
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.10+ or run make PYTHON=python3"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' $(foreach plugin,$(PLUGINS),-e $(plugin))
	touch $(STAMP)

install: $(STAMP) ## venv with notifier, its plugins and the dev tools

dev-env: ## .env with a development bearer token, made once
	@scripts/dev-env.sh

ensure-rabbitmq: ## start the local RabbitMQ if it is installed and stopped
	@scripts/ensure-rabbitmq.sh

migrate: install ## bring the database to the newest revision
	$(BIN)/notifier db upgrade

run: install dev-env ensure-rabbitmq migrate ## set everything up and start api + consumers + scheduler
	@scripts/print-first-steps.sh
	exec $(BIN)/notifier run all

lint: install ## wemake-python-styleguide, mypy --strict, import contracts
	$(BIN)/flake8 notifier plugins tests setup.py
	$(BIN)/mypy notifier plugins/email_smtp/notifier_email_smtp plugins/sms_stub/notifier_sms_stub plugins/push_stub/notifier_push_stub
	$(BIN)/lint-imports
	VENV_BIN=$(BIN) scripts/lint-deploy.sh

test: install ## the whole suite against the machine's RabbitMQ and PostgreSQL
	@scripts/ensure-chromium.sh
	$(BIN)/pytest

chaos: install ## the whole fault-injection suite with 1000 notifications per scenario (tens of minutes)
	NOTIFIER_CHAOS_FULL=1 NOTIFIER_CHAOS_N=$${NOTIFIER_CHAOS_N:-1000} NOTIFIER_CHAOS_REPORT=$${NOTIFIER_CHAOS_REPORT:-docs/chaos-last-run.md} $(BIN)/pytest tests/chaos -m chaos

bench: install ## throughput, memory and rate-limit figures (prints a table)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache
