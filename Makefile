# thermoinfer — the README's two commands:
#   make run    the flagship analysis on the embedded defaults (writes results/*.nc and a PNG)
#   make test   every check (ruff, pytest including the slow statistical tests, docs examples)
# Both create .venv on first use with a Python >= 3.12 (override with PYTHON=/path/to/python3.12).

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.thermoinfer-installed
EXTRAS ?= test,dist,docs
PYTEST_ARGS ?=

# Candidate interpreters, in order: $(PYTHON), python3.13, python3.12, pyenv's 3.13/3.12, python3.
define FIND_PYTHON
ok() { "$$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }; \
found=""; \
if [ -n "$(PYTHON)" ]; then \
  if ok "$(PYTHON)"; then found="$(PYTHON)"; else \
    echo "error: PYTHON=$(PYTHON) is not a Python >= 3.12 (thermoinfer needs ArviZ 1.x, which needs 3.12+)" >&2; exit 2; fi; \
else \
  cands="python3.13 python3.12"; \
  if command -v pyenv >/dev/null 2>&1; then root=$$(pyenv root); \
    for v in $$(ls -d $$root/versions/3.1[3-9]* $$root/versions/3.12* 2>/dev/null | sort -rV); do cands="$$cands $$v/bin/python3"; done; fi; \
  for d in $$HOME/.pyenv/versions/3.13* $$HOME/.pyenv/versions/3.12*; do [ -x "$$d/bin/python3" ] && cands="$$cands $$d/bin/python3"; done; \
  cands="$$cands python3"; \
  for c in $$cands; do if ok "$$c"; then found="$$c"; break; fi; done; \
fi; \
if [ -z "$$found" ]; then \
  echo "error: no Python >= 3.12 found (tried \$$PYTHON, python3.13, python3.12, pyenv versions, python3)." >&2; \
  echo "       Install one (e.g. 'pyenv install 3.12') or run 'make PYTHON=/path/to/python3.12 ...'." >&2; exit 2; \
fi
endef

.PHONY: run test venv lint bench docs clean

$(STAMP): pyproject.toml
	@$(FIND_PYTHON); \
	if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'; then \
	  echo "existing $(VENV) is older than Python 3.12; recreating it"; rm -rf $(VENV); fi; \
	if [ ! -x $(PY) ]; then echo "creating $(VENV) with $$found ($$($$found --version))"; "$$found" -m venv $(VENV) || exit 2; fi
	@echo "installing thermoinfer[$(EXTRAS)] into $(VENV) (first use only)"
	@$(PY) -m pip install --quiet --upgrade pip 2>&1 | grep -v 'is ignored: it is neither' ; exit $${PIPESTATUS[0]}
	@$(PY) -m pip install --quiet -e ".[$(EXTRAS)]" 2>&1 | grep -v 'is ignored: it is neither' ; exit $${PIPESTATUS[0]}
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(PY) analyses/memorization_efficiency.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) benchmarks/simulation_throughput.py

docs: $(STAMP)
	$(PY) -m pip install --quiet -e ".[docs]"
	$(VENV)/bin/mkdocs build --strict

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache
