# The two commands of the README: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := FLASK_APP=wsgi.py $(BIN)/flask
UV := $(BIN)/uv
UV_VERSION := 0.13.9
PORT ?= 5000
MAIL_PORT ?= 8025

.PHONY: run test lint format install install-dev browser redis harfbuzz migrate demo lock frontend bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

# uv installs the pinned requirements (uv pip install): about 10 s on a fresh machine where pip took 50 to
# 60 s, most of it resolving and unpacking (docs/testing.md). The same pins, the same packages.
$(UV): | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: requirements.txt | $(UV)
	$(UV) pip install --quiet --python $(BIN)/python -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(UV) pip install --quiet --python $(BIN)/python -r requirements.txt -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

instance:
	mkdir -p instance

# HarfBuzz's subsetter for WeasyPrint: each font embedded in a PDF is cut down to the glyphs it uses. Without
# the library WeasyPrint falls back to fontTools, about six times slower (a DAT receipt: 1 s of CPU instead of
# 0.16 s; docs/performance.md). The distribution's package when missing and running as root, else a warning.
harfbuzz:
	@if ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset.so.0; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libharfbuzz-subset0 >/dev/null; \
	else echo "libharfbuzz-subset0 is missing: PDFs render about six times slower (install the package)" >&2; fi

migrate: install instance harfbuzz
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) demo load

# Serve the app on http://127.0.0.1:$(PORT) with the outbox worker, the DAT deadline reminders, the close of
# QR Pro's observation windows and a local SMTP sink, started first so that the worker sends the demo e-mails
# at once (mails land as .eml files in instance/mails/ and on the page /dev/courriels). Development mode (production is the app's default),
# for this target and the ones it runs first; e-mailed links point to this server's port.
# The background processes yield the cores to gunicorn when both are busy: an alert or a reminder
# sent a second later is not seen, a page is (docs/deployment.md, « Background workers »).
# Ctrl-C, or gunicorn ending, stops them all (SIGTERM: each ends the run it is in). The trap runs once:
# a `kill 0` on TERM signalled the shell itself, again and again, until bash crashed.
BACKGROUND = nice -n 10 env
run: export APP_ENV ?= development
run: export BASE_URL ?= http://127.0.0.1:$(PORT)
run: demo
	@trap 'trap - EXIT INT TERM; kill $$(jobs -p) 2>/dev/null; wait' EXIT INT TERM; \
	$(BACKGROUND) $(FLASK) dev mail-sink --port $(MAIL_PORT) & \
	for _ in $$(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$(MAIL_PORT)) 2>/dev/null && break; sleep 0.2; done; \
	MAIL_PORT=$(MAIL_PORT) $(BACKGROUND) $(FLASK) outbox work & \
	$(BACKGROUND) $(FLASK) dat remind --every 60 & \
	$(BACKGROUND) $(FLASK) drafts expire --every 3600 & \
	$(BACKGROUND) $(FLASK) qrpro cloturer-consultations --every 300 & \
	MAIL_PORT=$(MAIL_PORT) $(BIN)/gunicorn --bind 127.0.0.1:$(PORT) --workers 2 --threads 4 \
	  --access-logfile - wsgi:app & \
	wait $$!

# Chromium for the e2e tests: the distribution's when present, else install it (root), else Playwright's.
browser: install-dev
	@if [ -x /usr/bin/chromium ]; then echo "Chromium: /usr/bin/chromium"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else $(BIN)/playwright install chromium; fi

# redis-server for the test of the rate limits shared by two gunicorn workers (tests/integration/
# test_gunicorn.py; production keeps them in Redis): the distribution's when present, else install it (root).
redis:
	@if command -v redis-server >/dev/null; then echo "redis-server: $$(command -v redis-server)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
	else echo "redis-server is missing: install the distribution's redis-server package" >&2; exit 1; fi

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The unit and integration tests run at moments where the calendar bites, so that a test that holds only
# on some days fails here rather than on the day CI happens to run: a Wednesday afternoon (a draft known two
# days before is past its 48 hours), and Christmas night just after midnight in Paris (the UTC date is still
# the day before; 25 and 26 December are holidays in Moselle). One pytest run for all the moments: with
# `--dist each`, each pytest-xdist worker runs every test, worker i at the i-th moment. The modules that
# cannot depend on the date (ANY_DAY_MODULES in tests/conftest.py, marked any_day) run once, at the present
# moment, with the browser tests (whose browser and database cannot travel in time). CI's PostgreSQL run
# (.ci/run) runs everything again at the present moment. `make test CLOCKS=`: everything at the present moment.
CLOCKS ?= 2026-12-09T14:00 2026-12-25T00:30
# pytest-xdist workers for the browser tests and the tests run once: four on two cores. A browser test
# mostly waits (on Chromium, on its page's timers, on the server thread): the 75 of them used 228 s of CPU
# in 283 s on two workers, so two more workers fill the cores (docs/testing.md).
JOBS ?= 4

# Exit status 5 is pytest's « no test selected » (PYTEST_ARGS naming one layer or one file).
# Python writes its compiled modules even where PYTHONDONTWRITEBYTECODE is set (this machine's shell sets
# it): otherwise each pytest process (controllers and workers) compiled the app and rewrote the tests'
# asserts again (about 7 s of CPU each under load; the files go to __pycache__/, ignored by git).
test: export PYTHONDONTWRITEBYTECODE =
test: lint browser redis harfbuzz
	@set -e; if [ -n "$(strip $(CLOCKS))" ]; then \
	  echo "== unit and integration tests at $(CLOCKS) (Paris): one worker per moment"; \
	  $(BIN)/pytest -n $(words $(CLOCKS)) --dist each $(foreach clock,$(CLOCKS),--clock $(clock)) \
	    -m "not e2e and not any_day" $(PYTEST_ARGS) || [ $$? -eq 5 ]; \
	  echo "== the browser tests and the tests that cannot depend on the day, at the present moment"; \
	  $(BIN)/pytest -n $(JOBS) -m "e2e or any_day" $(PYTEST_ARGS) || [ $$? -eq 5 ]; \
	else \
	  $(BIN)/pytest -n $(JOBS) $(PYTEST_ARGS) || [ $$? -eq 5 ]; \
	fi

# Recompile the pinned requirements.
lock: $(UV)
	$(UV) pip compile -q requirements.in -o requirements.txt --python-version 3.11
	$(UV) pip compile -q requirements-dev.in -o requirements-dev.txt --python-version 3.11

frontend:
	bash scripts/build-frontend.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
