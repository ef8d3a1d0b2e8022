# The two commands: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
SERVICES := accounts catalog reservations orders notifications settlement insights gateway

export PYTHONPATH := $(CURDIR)/libs:$(CURDIR)/services
export PSYCOPG_WAIT_FUNC := wait_select
export PYTHONWARNINGS := ignore::DeprecationWarning,ignore::UserWarning

.PHONY: run test check bench infra infra-browser venv clean operator reconcile $(addprefix run-,$(SERVICES))

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.lock
	@tools/make_venv.sh $(VENV)
	@touch $@

## infra: RabbitMQ, PostgreSQL, Redis (and Python's venv module) installed when missing and run as root,
## started when stopped; infra-browser adds Chromium with a Korean font (make test). Before venv: a
## fresh Debian lacks python3-venv.
infra:
	@tools/ensure_infra.sh

infra-browser:
	@tools/ensure_infra.sh --browser

## run: the whole platform (every service and the gateway); Ctrl-C stops it all
run: infra venv
	@$(PY) tools/run_platform.py

## run-<service>: one service alone, e.g. make run-accounts
$(addprefix run-,$(SERVICES)): run-%: infra venv
	@$(PY) -m chassis.run $*

## run-console: the partner-center web console alone (services/console), on PC_CONSOLE_PORT (8080),
## talking to the gateway at PC_GATEWAY_URL (http://127.0.0.1:8000)
.PHONY: run-console
run-console: venv
	@$(PY) -m console

## check: lint (ruff check), format (ruff format --check) and types (mypy),
## all configured in pyproject.toml; seconds, so it runs first in make test
check: venv
	@$(VENV)/bin/ruff check --quiet .
	@$(VENV)/bin/ruff format --check --quiet .
	@$(VENV)/bin/mypy

## test: the checks, then every test against the real RabbitMQ and PostgreSQL
test: check infra-browser venv
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: no tests collected"; exit 0; fi; exit $$rc

## bench: throughput figures, written to reports/bench.json and reports/bench.md;
## make bench SECTIONS="reservations orders" runs the echo and those only (reports/bench-partial.md)
bench: infra venv
	@$(PY) tools/bench.py $(SECTIONS)

## proof: the platform under fire (faults, load, abuse, reconciliation), at most 15 minutes;
## prints the table and writes reports/proof-<date>.md and reports/proof-latest.md.
## PROOF_ARGS="--quick" leaves out the RabbitMQ and PostgreSQL faults (they disturb this machine's other users).
## make proof CLUSTER=1: the proof's stream on `make cluster` (started here if it is not running,
## stopped after) with the cluster faults: a broker node killed, one partitioned, a PostgreSQL failover.
.PHONY: proof
proof: infra venv
	@PYTHONPATH=$(CURDIR)/tools:$$PYTHONPATH $(PY) -m proof $(if $(CLUSTER),--cluster) $(PROOF_ARGS)

## cluster: a 3-node RabbitMQ cluster (AMQP 5681-5683) and a PostgreSQL primary with a synchronous
## standby (5441, 5442) on this machine, beside the default broker and database (tools/cluster.sh);
## prints the PC_AMQP_URI and database URLs to use. cluster-stop stops and removes them.
.PHONY: cluster cluster-stop
cluster: venv
	@tools/cluster.sh start

cluster-stop:
	@tools/cluster.sh stop

## operator: a platform operator (ops only, never sign-up): make operator LOGIN=ops1 PASSWORD=...
## Run again for the same LOGIN to reset its password.
operator: infra venv
	@test -n "$(LOGIN)" -a -n "$(PASSWORD)" || { echo "usage: make operator LOGIN=.. PASSWORD=.."; exit 2; }
	@PASSWORD="$(PASSWORD)" $(PY) -m accounts.ops create-operator --login "$(LOGIN)"

## customer-token: an ID token of the development issuer (R-ACC-12) for a messenger user, to send as
## POST /v1/customer-sessions {"id_token": ...}: make customer-token PHONE=010-1234-5678 NAME=김다온
.PHONY: customer-token
customer-token: venv
	@test -n "$(PHONE)" || { echo "usage: make customer-token PHONE=010-1234-5678 [NAME=..]"; exit 2; }
	@$(PY) -m gateway.devissuer --phone "$(PHONE)" $(if $(NAME),--name "$(NAME)")

## reconcile: settlement ledger vs reservations and orders: make reconcile FROM=2026-11-01 TO=2026-11-30 [PARTNER=..]
reconcile: venv
	@test -n "$(FROM)" -a -n "$(TO)" || { echo "usage: make reconcile FROM=YYYY-MM-DD TO=YYYY-MM-DD [PARTNER=id]"; exit 2; }
	@$(PY) -m settlement.reconcile --from "$(FROM)" --to "$(TO)" $(if $(PARTNER),--partner "$(PARTNER)")

clean:
	rm -rf $(VENV)
