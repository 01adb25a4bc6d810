# The two commands every contributor needs: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install dev-install dovecot browser lint demo bench bench-backlog screenshots

$(BIN)/inbox-agent:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .

install: $(BIN)/inbox-agent

dev-install: install
	$(BIN)/pip install -q -e '.[dev]'

run: install
	$(BIN)/inbox-agent run $(if $(CONFIG),--config $(CONFIG))

demo: install
	$(BIN)/inbox-agent demo

dovecot:
	@if command -v dovecot >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
		(apt-get install -y -q --no-install-recommends dovecot-imapd >/dev/null 2>&1 || \
		 (apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends dovecot-imapd >/dev/null)); \
	else \
		echo "Dovecot is missing: run 'sudo apt-get install -y --no-install-recommends dovecot-imapd' and retry" >&2; exit 1; \
	fi

# Debian's Chromium for the real-browser check of the HTML messages, DejaVu for the picture's accents.
browser:
	@if command -v chromium >/dev/null 2>&1 && [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
		(apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >/dev/null 2>&1 || \
		 (apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >/dev/null)); \
	else \
		echo "Chromium is missing: run 'sudo apt-get install -y --no-install-recommends chromium fonts-dejavu-core' and retry" >&2; exit 1; \
	fi

screenshots: dev-install browser
	$(BIN)/inbox-agent screenshots --out var/screenshots

test: dev-install dovecot browser
	$(BIN)/pytest -q

lint: dev-install
	$(BIN)/ruff check inbox_agent tests benchmarks
	$(BIN)/mypy inbox_agent

bench: install
	$(BIN)/python benchmarks/parse_bench.py
	$(BIN)/python benchmarks/latency.py
	$(BIN)/python benchmarks/intent_cv.py
	$(BIN)/python benchmarks/orders_bench.py
	$(BIN)/python benchmarks/catchup_memory.py

bench-backlog: dev-install dovecot
	$(BIN)/python benchmarks/backlog.py $(if $(COUNT),--count $(COUNT))
