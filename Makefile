# notifier — the two commands a newcomer needs are `make run` and `make test`.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PLUGINS := plugins/email_smtp plugins/sms_stub plugins/push_stub
# What the linters read; CI's lint and typecheck jobs call the same targets (docs/ci.md).
STYLE_PATHS := notifier plugins tests setup.py
TYPED_PACKAGES := notifier plugins/email_smtp/notifier_email_smtp plugins/sms_stub/notifier_sms_stub plugins/push_stub/notifier_push_stub
LINT_REPORT := lint-report

.PHONY: run install migrate dev-env ensure-rabbitmq lint lint-style typecheck lint-imports lint-deploy lint-report test chaos bench bench-scaling bench-sockets clean

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

lint: lint-style typecheck lint-imports lint-deploy ## all four checks below, as CI runs them

lint-style: install ## wemake-python-styleguide (flake8) over the code, the tests and setup.py
	$(BIN)/flake8 $(STYLE_PATHS)

typecheck: install ## mypy --strict (setup.cfg) over notifier and the three plugins
	$(BIN)/mypy $(TYPED_PACKAGES)

lint-imports: install ## the import-linter contracts of setup.cfg
	$(BIN)/lint-imports

lint-deploy: install ## the workflows, docker-compose.yml and the Dockerfile
	VENV_BIN=$(BIN) scripts/lint-deploy.sh

lint-report: install ## the style findings as an HTML report in lint-report/ (never fails on findings)
	$(BIN)/flake8 --exit-zero --format=html --htmldir=$(LINT_REPORT) $(STYLE_PATHS)

test: install ## the whole suite against the machine's RabbitMQ and PostgreSQL
	@scripts/ensure-chromium.sh
	$(BIN)/pytest

chaos: install ## the whole fault-injection suite with 1000 notifications per scenario (tens of minutes)
	NOTIFIER_CHAOS_FULL=1 NOTIFIER_CHAOS_N=$${NOTIFIER_CHAOS_N:-1000} NOTIFIER_CHAOS_REPORT=$${NOTIFIER_CHAOS_REPORT:-docs/chaos-last-run.md} $(BIN)/pytest tests/chaos -m chaos

bench: install ## throughput, memory and rate-limit figures (prints a table)
	$(BIN)/python -m bench.run

bench-scaling: install ## a mailing's rate with 1, 2 and 4 sender processes (docs/capacity.md)
	$(BIN)/python -m bench.scaling

bench-sockets: install ## only the socket rows of make bench (BENCH_SOCKETS open WebSockets, default 10000)
	$(BIN)/python -m bench.sockets

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache
