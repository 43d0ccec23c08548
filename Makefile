# Mailroom: `make run` to use it, `make test` to check it. Both set up everything they need.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
CHROMIUM ?= /usr/bin/chromium-headless-shell

# Python keeps the modules it compiles (in __pycache__, which git ignores) even where the environment
# says not to: every web server, worker and file reader the app or its tests start imports the app, and
# would compile all of it again.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install run check test test-deps bench browser-deps mail-deps broker-deps bench-deps clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: install
	$(BIN)/mailroom dev

# Browser tests drive Debian's Chromium as its headless shell (package chromium-headless-shell, the
# build Playwright itself uses for headless runs): the same Blink, without the full browser's UI
# process, at about half the CPU. Playwright never downloads a browser here.
browser-deps:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing chromium-headless-shell (apt-get) for the browser tests ..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium-headless-shell >/dev/null; \
	  else \
	    echo "Chromium is missing: install it (Debian: sudo apt-get install chromium-headless-shell) or set CHROMIUM=/path/to/chrome"; \
	    exit 1; \
	  fi; \
	fi

# Lint, formatting, types and the import rules between layers and features (pyproject.toml).
check: install
	$(BIN)/ruff check webapp tests bench migrations
	$(BIN)/ruff format --check webapp tests bench migrations
	$(BIN)/mypy
	$(BIN)/lint-imports

# Several pytest processes (pytest-xdist), each with its own PostgreSQL, Redis and web server; a test
# file stays in one process. Twice as many processes as cores, at least four: tests wait on servers,
# workers and Chromium, and the cores stay busy. One run for every test: each process runs its
# browser files after the rest (tests/conftest.py sorts them last, as Playwright's sync API keeps an
# event loop running in its process and async tests cannot run there afterwards), so no process
# waits idle for another run to start. Files marked long go first; the slowest tests are printed, to
# keep the suite well under 20 minutes.
TEST_WORKERS ?= $(shell n=$$(( $$(nproc) * 2 )); [ $$n -lt 4 ] && n=4; echo $$n)
PYTEST = CHROMIUM=$(CHROMIUM) $(BIN)/pytest --dist loadfile --no-loadscope-reorder --durations=15

# The bounce mailbox tests read mail from a real IMAP and POP3 server: Dovecot, started by the tests;
# the content check tests score messages with a real SpamAssassin: spamd, started by the tests.
mail-deps:
	@if [ ! -x /usr/sbin/dovecot ] || [ ! -x /usr/lib/dovecot/pop3 ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing dovecot (apt-get) for the bounce mailbox tests ..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dovecot-imapd dovecot-pop3d >/dev/null; \
	  else \
	    echo "Dovecot is missing: install it (Debian: sudo apt-get install dovecot-imapd dovecot-pop3d)"; \
	    exit 1; \
	  fi; \
	fi
	@if [ ! -x /usr/sbin/spamd ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing spamassassin's spamd (apt-get) for the content check tests ..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends spamd spamassassin >/dev/null; \
	  else \
	    echo "spamd is missing: install it (Debian: sudo apt-get install spamd spamassassin)"; \
	    exit 1; \
	  fi; \
	fi

# The RabbitMQ broker test runs a campaign over a real RabbitMQ, started by the test as this user.
broker-deps:
	@if [ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing rabbitmq-server (apt-get) for the RabbitMQ broker test ..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rabbitmq-server >/dev/null; \
	  else \
	    echo "RabbitMQ is missing: install it (Debian: sudo apt-get install rabbitmq-server)"; \
	    exit 1; \
	  fi; \
	fi

# The programs the tests start, installed one after the other (apt-get takes one lock at a time).
test-deps:
	@MAKEFLAGS= $(MAKE) --no-print-directory browser-deps mail-deps broker-deps

# On a fresh machine the venv (pip) and the programs (apt-get) are installed side by side; the lint,
# type and import checks (one process at a time, about a minute) then run beside the tests rather
# than before them. Either failing fails the run.
test:
	@$(MAKE) --no-print-directory -j2 install test-deps
	@$(MAKE) --no-print-directory check & checks=$$!; \
	$(PYTEST) -n $(TEST_WORKERS) tests; tests=$$?; \
	wait $$checks || { echo "make check failed: see its output above"; exit 1; }; \
	exit $$tests

# bench/send.py measures against Postfix's smtp-sink and smtp-source; bench/events.py loads the server with wrk.
bench-deps:
	@if ! command -v wrk >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing wrk (apt-get) ..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else \
	    echo "wrk is missing: install Debian's wrk package (sudo apt-get install wrk)"; \
	    exit 1; \
	  fi; \
	fi
	@if [ ! -x /usr/sbin/smtp-sink ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing postfix (apt-get) for smtp-sink and smtp-source ..."; \
	    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix >/dev/null; \
	  else \
	    echo "smtp-sink is missing: install Debian's postfix package (sudo apt-get install postfix)"; \
	    exit 1; \
	  fi; \
	fi

bench: install bench-deps
	@for script in bench/[!_]*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .data test-logs
