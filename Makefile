# Extranet: `make run` to try it, `make test` to run the whole suite.

VENV := .venv
PY := $(VENV)/bin/python
# The first Python >= 3.12 found: python3.13, python3.12, python3, then pyenv's versions.
PYTHON ?= $(shell for c in python3.13 python3.12 python3 $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[23]*/bin/python3 2>/dev/null | sort -rV); do \
	$$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v $$c; break; }; done)

DEV_ENV := DEBUG=1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# A recipe that fails leaves no half-made target (e.g. a venv without pip).
.DELETE_ON_ERROR:

.PHONY: run test lint bench bench-pages loadtest lighthouse install install-test serve migrate demo messages check-deploy clean

run: install migrate demo serve

$(PY):
	@if [ -z "$(PYTHON)" ]; then \
		echo "Extranet needs Python 3.12 or newer: neither python3.13 nor python3.12 was found." >&2; \
		echo "Install python3.13 (or python3.12), or run: make PYTHON=/path/to/python3.13" >&2; \
		exit 1; \
	fi
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }
	$(PY) -m pip install --quiet --upgrade pip || { rm -rf $(VENV); exit 1; }

$(VENV)/.base: requirements/base.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements/base.txt
	touch $@

$(VENV)/.test: requirements/test.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements/test.txt
	touch $@

$(VENV)/.load: requirements/load.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements/load.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	touch $@

install: $(VENV)/.base

install-test: $(VENV)/.base $(VENV)/.test $(VENV)/.load node_modules/.installed

migrate: install
	mkdir -p var
	$(DEV_ENV) $(PY) manage.py migrate --no-input
	$(DEV_ENV) $(PY) manage.py createcachetable

demo: migrate
	$(DEV_ENV) $(PY) manage.py load_demo_data

# The web server and the task worker together; Ctrl+C stops both.
serve:
	@echo "Portal on http://127.0.0.1:8000 - e-mails are written to var/mail/"
	@trap 'kill 0' INT TERM EXIT; \
	$(DEV_ENV) $(PY) manage.py run_worker --interval 1 & \
	$(DEV_ENV) $(PY) manage.py runserver 127.0.0.1:8000

# Lint, formatting and migrations are checked before the suite runs.
test: install-test lint
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-test
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(DEV_ENV) DATABASE_URL=sqlite://:memory: $(PY) manage.py makemigrations --check --dry-run

# The benchmarks of bench/, on the configured DATABASE_URL (the development SQLite file
# without it). A 1,000-family import and invoice generation by default, a few minutes at
# most; the full-size run:
# make bench BENCH_FAMILIES=10000
# Then the pages under gunicorn (bench/pages.py: PostgreSQL, Redis and wrk; about 6
# minutes), unless BENCH_PAGES=0; `make bench-pages` runs them alone, with the options of
# BENCH_PAGES_ARGS (e.g. BENCH_PAGES_ARGS="--duration 5 --json var/bench-pages.json").
BENCH_FAMILIES ?= 1000
BENCH_PAGES ?= 1
BENCH_PAGES_ARGS ?=
bench: migrate
	$(DEV_ENV) $(PY) bench/invoice_pdf.py
	$(DEV_ENV) $(PY) bench/import_families.py --families $(BENCH_FAMILIES)
	$(DEV_ENV) $(PY) bench/generate_invoices.py --families $(BENCH_FAMILIES)
	$(DEV_ENV) $(PY) bench/debit_batch.py --families $(BENCH_FAMILIES)
	@if [ "$(BENCH_PAGES)" != 0 ]; then $(MAKE) --no-print-directory bench-pages; fi

bench-pages: install
	$(PY) bench/pages.py $(BENCH_PAGES_ARGS)

# The load test of a re-enrollment campaign's opening (bench/campaign_load.py): 200
# parents at once for 5 minutes on a throwaway PostgreSQL database, through the portal's
# nodes with production settings, Redis and a real SMTP server; fails on any failed
# request or lost e-mail. Other scenarios and sizes:
# make loadtest LOADTEST_ARGS="--smtp-outage"   (or --restart-node, --users 50 --duration 60)
LOADTEST_ARGS ?=
loadtest: install $(VENV)/.load
	$(PY) bench/campaign_load.py $(LOADTEST_ARGS)

# Lighthouse (mobile profile, Debian's Chromium) on the demo parent's pages, on a
# throwaway database: accessibility, best practices and performance.
lighthouse: install node_modules/.installed
	CHROME_PATH=$${CHROME_PATH:-/usr/bin/chromium} $(PY) bench/lighthouse.py

# Regenerate the translation catalogues after changing interface strings.
messages: install
	$(DEV_ENV) $(PY) manage.py makemessages -l fr -l en --no-obsolete \
		--ignore 'node_modules/*' --ignore 'var/*' --ignore 'tests/*'
	$(DEV_ENV) $(PY) manage.py compilemessages --ignore ".venv/*" --ignore "node_modules/*"

check-deploy: install
	DEBUG=0 SECRET_KEY=$$(head -c 48 /dev/urandom | base64) ALLOWED_HOSTS=extranet.example.org \
		REDIS_URL=redis://127.0.0.1:6379/0 EMAIL_HOST=smtp.example.org $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) node_modules var .pytest_cache
