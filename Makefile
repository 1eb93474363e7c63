# Ustaz: `make run` starts the platform, `make test` runs every test. Only Python 3.11+ and make needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test demo bench lint lock browser node seed-large clean help messages

help:
	@echo "make run    start the whole platform on SQLite + a local Redis, with demo data"
	@echo "make test   run the whole test suite (real PostgreSQL, Redis, Celery, Chromium)"
	@echo "make demo   walk one teacher's journey against the platform and print each step"
	@echo "make bench  run the benchmarks (results go to docs/benchmarks.md by hand)"
	@echo "make lint   ruff, ruff format --check, mypy --strict, the migration drift check"
	@echo "make messages  extract UI strings, update every catalogue in gateway/web/locale (docs/i18n.md)"
	@echo "make seed-large [TEACHERS=100000]  a national population for the dashboards (deploy/seed_large.py)"

$(STAMP): requirements.lock requirements-dev.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.lock
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m deploy.run

demo: $(STAMP)
	$(BIN)/python -m deploy.demo

# Browser tests drive Debian's Chromium through Playwright (Playwright's own browser download does
# not work offline). Installed with apt-get when missing; needs root or sudo.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Outside checkers written for node (the ADL LRS conformance suite, DCC's verifier-core) run in the suite:
# Debian's nodejs and npm, installed with apt-get when missing, and each checker's committed
# package-lock.json installed with `npm ci` (again only when the lock changed).
NODE_LOCKS := $(wildcard third_party/*/package-lock.json tests/outside/package-lock.json)
NODE_STAMPS := $(NODE_LOCKS:package-lock.json=node_modules/.installed)
node: $(NODE_STAMPS)
%/node_modules/.installed: %/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  echo "installing Debian's nodejs and npm for the outside checkers"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs npm >/dev/null; }
	cd $* && npm ci --silent --no-audit --no-fund
	@touch $@

test: $(STAMP) browser node lint
	$(BIN)/python -m pytest

bench: $(STAMP) browser
	$(BIN)/python -m bench

# The gate every change passes (docs/adr/0012): ruff (incl. complexity and logging rules), one format,
# mypy --strict over libs, gateway, services and deploy, and the migrations matching the models.
lint: $(STAMP)
	$(BIN)/python -m ruff check .
	$(BIN)/python -m ruff format --check .
	$(BIN)/python -m mypy
	$(BIN)/python -m libs.migrate all check

# UI strings: extract into the template, then update (or create) the catalogue of every language in
# gateway.web.i18n.LANGUAGES. New strings arrive empty (English is shown until translated); see docs/i18n.md.
LOCALE := gateway/web/locale
messages: $(STAMP)
	mkdir -p $(LOCALE)
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --project Ustaz \
	  --msgid-bugs-address "" -o $(LOCALE)/messages.pot.new .
	@# keep the old template (and its date, which every catalogue copies) when no string changed
	@if [ -f $(LOCALE)/messages.pot ] && [ "$$(grep -v POT-Creation-Date $(LOCALE)/messages.pot.new)" = \
	  "$$(grep -v POT-Creation-Date $(LOCALE)/messages.pot)" ]; then rm $(LOCALE)/messages.pot.new; \
	  else mv $(LOCALE)/messages.pot.new $(LOCALE)/messages.pot; fi
	for lang in $$($(BIN)/python -c 'from gateway.web.i18n import LANGUAGES; print(*LANGUAGES)'); do \
	  $(BIN)/pybabel update -i $(LOCALE)/messages.pot -d $(LOCALE) -l $$lang --init-missing --ignore-obsolete --no-fuzzy-matching || exit 1; done
TEACHERS ?= 100000
seed-large: $(STAMP)
	$(BIN)/python -m libs.migrate all upgrade
	$(BIN)/python -m deploy.seed
	$(BIN)/python -m deploy.seed_large --teachers $(TEACHERS) --seed 42

# Re-resolve the pinned dependency sets from pyproject.toml in throwaway environments.
lock:
	rm -rf /tmp/ustaz-lock && $(PYTHON) -m venv /tmp/ustaz-lock
	/tmp/ustaz-lock/bin/pip install --quiet .
	/tmp/ustaz-lock/bin/pip freeze --exclude ustaz > requirements.lock
	/tmp/ustaz-lock/bin/pip install --quiet ".[dev]"
	{ echo "-r requirements.lock"; /tmp/ustaz-lock/bin/pip freeze --exclude ustaz | grep -vxFf requirements.lock; } > requirements-dev.lock
	rm -rf /tmp/ustaz-lock build *.egg-info

clean:
	rm -rf $(VENV) var .pytest_cache
