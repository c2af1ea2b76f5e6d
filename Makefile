# Accompagnement des cadres supérieurs: developer and CI entry points.
#
#   make run    serve http://127.0.0.1:8000 (SQLite, tasks inline, demo data loaded once)
#   make test   the whole suite on PostgreSQL + Redis (local defaults below)

SHELL := /bin/bash

VENV    := .venv
PYTHON  := $(VENV)/bin/python
PIP     := $(VENV)/bin/pip
PYTEST  := $(VENV)/bin/pytest
RUFF    := $(VENV)/bin/ruff
CELERY  := $(VENV)/bin/celery
MANAGE  := $(PYTHON) manage.py
STAMP   := $(VENV)/.installed
DEMO_STAMP := var/.demo-loaded

# Two processes (the 10-minute budget is for 2 cores); each has its own task queue on
# the shared Redis broker (tests/conftest.py).
PYTEST_ARGS ?= -n 2

# Services used by `make test` (override on the command line or in the environment).
test: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/accompagnement
test: export REDIS_URL ?= redis://127.0.0.1:6379/15

# Broker for a local worker/beat; start `make run` with the same REDIS_URL to use them.
worker beat: export REDIS_URL ?= redis://127.0.0.1:6379/0

# Production profile checked by `make deploy-check` (dummy values, never used to serve).
deploy-check: export DJANGO_SETTINGS_MODULE := config.settings_production
deploy-check: export SECRET_KEY := ci-deploy-check-7Qh2Lw9xVb4Nk8Rt3Zp6Ym1Jc5Fd0Gs2Hu7Ke4Wa9Xn3Tv
deploy-check: export ALLOWED_HOSTS := example.gouv.fr

.PHONY: install run test lint fmt worker beat deploy-check clean distclean bench-mentoring bench bench-reminders

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install ".[dev]"
	touch $@

# Embedded default: no DATABASE_URL (SQLite db.sqlite3), no REDIS_URL (Celery tasks inline).
run: $(STAMP)
	@mkdir -p var
	@# A fresh SQLite file means the demo data is gone: load it again.
	@if [ -z "$${DATABASE_URL:-}" ] && [ ! -f db.sqlite3 ]; then rm -f $(DEMO_STAMP); fi
	DEBUG=true $(MANAGE) migrate --noinput
	@if [ ! -f $(DEMO_STAMP) ]; then \
		echo "DEBUG=true $(MANAGE) seed_demo"; \
		DEBUG=true $(MANAGE) seed_demo && touch $(DEMO_STAMP); \
	else \
		echo "Demo data already loaded (rm $(DEMO_STAMP) to load it again)."; \
	fi
	DEBUG=true $(MANAGE) runserver 127.0.0.1:8000

test: $(STAMP)
	$(PYTEST) $(PYTEST_ARGS)

lint: $(STAMP)
	$(RUFF) check .
	$(RUFF) format --check .
	$(MANAGE) makemigrations --check --dry-run

fmt: $(STAMP)
	$(RUFF) format .
	$(RUFF) check --fix .

worker: $(STAMP)
	$(CELERY) -A config worker -l info

beat: $(STAMP)
	@mkdir -p var
	$(CELERY) -A config beat -l info --schedule var/celerybeat-schedule

deploy-check: $(STAMP)
	$(MANAGE) check --deploy --fail-level WARNING

# Matching engine at the State's scale (10,000 mentees x 3,000 mentors, one core):
# time and total score against the greedy baseline; fails if a target is missed.
bench-mentoring: install
	$(PYTHON) -m bench.mentoring

# Main pages at N = 2,000 and 20,000 cadres (seed_scale, gunicorn with the production
# settings on loopback, wrk), then the mentoring benchmark; see bench/README.md.
# Options: make bench BENCH_ARGS="--sizes 300,600 --duration 5".
BENCH_ARGS ?=
bench: install
	@command -v wrk >/dev/null || { echo "wrk est introuvable : apt-get install -y wrk"; exit 1; }
	$(PYTHON) -m bench.run $(BENCH_ARGS)

# The reminder sweep: 10,000 due reminders, one Celery worker, an aiosmtpd sink
# (needs Redis: REDIS_URL, else redis://127.0.0.1:6379/0).
bench-reminders: install
	$(PYTHON) -m bench.reminders $(BENCH_ARGS)

clean:
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache build *.egg-info staticfiles

# Also drops the virtualenv and the local SQLite data (demo data is reloaded by `make run`).
distclean: clean
	rm -rf $(VENV) var db.sqlite3
