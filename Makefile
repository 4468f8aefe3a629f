# thermoinfer — the README's two commands:
#   make run    the flagship analysis on the embedded defaults (writes results/*.nc and a PNG)
#   make test   every check (ruff, pytest including the slow statistical tests, docs examples)
# Both create .venv on first use with a Python >= 3.12 (override with PYTHON=/path/to/python3.12)
# and install exactly the locked set of packages (requirements/lock.txt, hashes checked).
#
# Further targets:
#   make lock      refresh requirements/lock.txt to the newest versions pyproject.toml allows
#   make drift     install the newest allowed versions into a scratch venv, run the suite there and
#                  write results/drift-report.md (never fails: drift is seen before a lock refresh)
#   make validate  the statistical validations: the slow suite at seed offsets 1..5, then the
#                  coverage of the EP-rate intervals at scale with 200 replicate data sets
#   make floor     the oldest versions pyproject.toml allows (lowest direct dependencies) in a
#                  scratch venv, with the fast suite: the lower bounds are honest
#   make bench     the benchmarks;  make docs  the documentation site;  make clean

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
LOCK := requirements/lock.txt
STAMP := $(VENV)/.thermoinfer-installed
PYTEST_ARGS ?=
# the lock tool, itself pinned (used by `make lock` only, in its own scratch venv)
UV_VERSION := 0.13.9
LOCK_VENV := .lock-venv
DRIFT_VENV := .drift-venv
FLOOR_VENV := .floor-venv
FLOOR_PYTEST_ARGS ?= -m "not slow"
DRIFT_PYTEST_ARGS ?=
DRIFT_REPORT := results/drift-report.md
VALIDATE_OFFSETS ?= 1 2 3 4 5
VALIDATE_REPORT := results/validate-report.md
# replicate data sets per size of the coverage-at-scale test in `make validate` (30 in make test)
VALIDATE_COVERAGE_REPLICATES ?= 200
# pip's notices about unreachable local indexes of some machines are noise; with pipefail the
# pipeline keeps pip's exit status (grep -v alone would fail when pip prints nothing)
SHELLFLAGS_PIPEFAIL := -o pipefail -c
.SHELLFLAGS := $(SHELLFLAGS_PIPEFAIL)
PIPQUIET := { grep -v 'is ignored: it is neither' || true; }

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

.PHONY: run test venv lint bench docs lock drift floor validate clean

# The venv holds exactly the lock: a changed lock (or pyproject) rebuilds it from scratch, so no
# package from an earlier resolution survives.
$(STAMP): $(LOCK) pyproject.toml
	@$(FIND_PYTHON); \
	if [ -d $(VENV) ]; then echo "$(LOCK) or pyproject.toml changed (or $(VENV) is incomplete): rebuilding $(VENV)"; rm -rf $(VENV); fi; \
	echo "creating $(VENV) with $$found ($$($$found --version))"; "$$found" -m venv $(VENV) || exit 2
	@echo "installing the locked environment ($(LOCK)) into $(VENV) (first use only, 1-3 minutes)"
	@$(PY) -m pip install --quiet --require-hashes --no-deps -r $(LOCK) 2>&1 | $(PIPQUIET)
	@$(PY) -m pip install --quiet --no-deps --no-build-isolation -e . 2>&1 | $(PIPQUIET)
	@$(PY) -m pip check >/dev/null || { $(PY) -m pip check; echo "error: the locked set is inconsistent; run 'make lock'" >&2; exit 2; }
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(PY) analyses/memorization_efficiency.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: $(STAMP)
	$(VENV)/bin/ruff check .
	THERMOINFER_LOCKED_ENV=1 $(PY) -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) benchmarks/simulation_throughput.py
	$(PY) benchmarks/cli_startup.py

docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict

# Refresh the lock: the newest versions pyproject.toml allows, for every Python >= 3.12 (one
# universal file; markers where a version differs), with hashes. Review the diff, run `make test`.
lock:
	@$(FIND_PYTHON); \
	if [ ! -x $(LOCK_VENV)/bin/uv ]; then "$$found" -m venv $(LOCK_VENV) && \
	  $(LOCK_VENV)/bin/python -m pip install --quiet uv==$(UV_VERSION) 2>&1 | $(PIPQUIET); fi
	@cp $(LOCK) $(LOCK).new 2>/dev/null || true
	$(LOCK_VENV)/bin/uv pip compile pyproject.toml requirements/build.in --extra test \
	  --extra docs --extra dist --universal --python-version 3.12 --generate-hashes --upgrade \
	  --no-header --quiet -o $(LOCK).new
	@if cmp -s $(LOCK).new $(LOCK); then rm -f $(LOCK).new; echo "$(LOCK) is up to date (nothing newer allowed)"; \
	else mv $(LOCK).new $(LOCK); echo "wrote $(LOCK); review 'git diff $(LOCK)', then 'make test' (rebuilds $(VENV))"; fi

# Drift: the newest allowed versions, in a scratch venv; the report says what differs from the
# lock and what breaks. Always exits 0.
drift:
	@$(FIND_PYTHON); mkdir -p results; rm -rf $(DRIFT_VENV); \
	"$$found" -m venv $(DRIFT_VENV) && \
	$(DRIFT_VENV)/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager \
	  -e ".[test,docs,dist]" 2>&1 | $(PIPQUIET); rc=$$?; \
	$(DRIFT_VENV)/bin/python requirements/drift_report.py --lock $(LOCK) --venv $(DRIFT_VENV) \
	  --install-status $$rc --report $(DRIFT_REPORT) -- $(DRIFT_PYTEST_ARGS) || true; \
	echo "drift report: $(DRIFT_REPORT)"

# Floor: the lowest versions of the direct dependencies that pyproject.toml allows (transitive ones
# newest), resolved by the pinned uv, in a scratch venv; the fast suite must pass there.
floor:
	@$(FIND_PYTHON); \
	if [ ! -x $(LOCK_VENV)/bin/uv ]; then "$$found" -m venv $(LOCK_VENV) && \
	  $(LOCK_VENV)/bin/python -m pip install --quiet uv==$(UV_VERSION) 2>&1 | $(PIPQUIET); fi; \
	rm -rf $(FLOOR_VENV) && "$$found" -m venv $(FLOOR_VENV) && \
	ver=$$($(FLOOR_VENV)/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])') && \
	$(LOCK_VENV)/bin/uv pip compile pyproject.toml --extra test --resolution lowest-direct \
	  --only-binary :all: --python-version $$ver --no-header --quiet -o $(FLOOR_VENV)/floor.txt && \
	VIRTUAL_ENV=$(FLOOR_VENV) $(LOCK_VENV)/bin/uv pip install --quiet -r $(FLOOR_VENV)/floor.txt && \
	VIRTUAL_ENV=$(FLOOR_VENV) $(LOCK_VENV)/bin/uv pip install --quiet --no-deps -e . && \
	grep -E '^(jax|numpyro|arviz|xarray|numpy|scipy|netcdf4|matplotlib|rich)==' $(FLOOR_VENV)/floor.txt | tr '\n' ' ' && echo && \
	$(FLOOR_VENV)/bin/python -m pytest -n 2 -q -p no:cacheprovider $(FLOOR_PYTEST_ARGS)

# Statistical validations beyond CI: the slow suite with the seed offsets of tests/README.md.
validate: $(STAMP)
	@mkdir -p results; echo "# make validate: slow suite at seed offsets $(VALIDATE_OFFSETS)" > $(VALIDATE_REPORT); \
	fail=0; for k in $(VALIDATE_OFFSETS); do \
	  start=$$(date +%s); \
	  THERMOINFER_TEST_SEED=$$k $(PY) -m pytest -n 2 --dist loadgroup -m slow -q -p no:cacheprovider $(PYTEST_ARGS) > results/validate-offset-$$k.log 2>&1; rc=$$?; \
	  line=$$(tail -n 1 results/validate-offset-$$k.log); \
	  echo "- offset $$k: exit $$rc, $$(( $$(date +%s) - start )) s: $$line" | tee -a $(VALIDATE_REPORT); \
	  [ $$rc -eq 0 ] || fail=1; \
	done; \
	start=$$(date +%s); \
	THERMOINFER_TEST_SEED=1 THERMOINFER_COVERAGE_REPLICATES=$(VALIDATE_COVERAGE_REPLICATES) $(PY) -m pytest -q -rP -p no:cacheprovider -k "nominal_rate or time_unit_error" tests/test_coverage_scale.py > results/validate-coverage.log 2>&1; rc=$$?; \
	echo "- coverage at scale, $(VALIDATE_COVERAGE_REPLICATES) replicates per size: exit $$rc, $$(( $$(date +%s) - start )) s: $$(tail -n 1 results/validate-coverage.log)" | tee -a $(VALIDATE_REPORT); \
	grep '^coverage: ' results/validate-coverage.log | sed 's/^/  - /' | tee -a $(VALIDATE_REPORT); \
	[ $$rc -eq 0 ] || fail=1; \
	echo "report: $(VALIDATE_REPORT)"; exit $$fail

clean:
	rm -rf $(VENV) $(LOCK_VENV) $(DRIFT_VENV) $(FLOOR_VENV) build dist site .pytest_cache .ruff_cache
