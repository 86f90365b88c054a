# The two commands a newcomer needs: `make demo` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test bench lint docs translations clean

install: $(STAMP)

# torch first, pinned: the CPU build lies on local disk; an unpinned resolve would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(PY) || python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test,docs]'
	touch $(STAMP)

demo: install
	$(VENV)/bin/testimony demo --home demo-home

# Every core (-n auto); a module's tests stay on one worker (--dist loadscope), so a module's browser, models and
# served sites start once. Bytecode is cached even where the environment says not to (PYTHONDONTWRITEBYTECODE):
# without it each worker re-parses every test module and each `testimony` process the tests start every module it
# imports (collection 12.5 CPU-seconds a worker instead of 6.6).
test: install
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -n auto --dist loadscope

bench: install
	$(PY) benchmarks/transcribe.py

lint: install
	$(VENV)/bin/ruff check archive tests benchmarks
	$(VENV)/bin/ruff format --check archive tests benchmarks
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

# The generated reference pages (cog blocks: CLI, settings, package map) rewritten from the code, then the site
# built into site/ exactly as the tests build it.
docs: install
	$(VENV)/bin/cog -r -I docs/reference $$(grep -rl --include='*.md' '\[\[\[cog' docs)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

# The interface's strings extracted anew (babel.cfg), merged into each catalog, and compiled: then translate what
# is new or fuzzy in archive/translations/*/LC_MESSAGES/messages.po and run it again (docs/translations.md).
BABEL := $(PY) -m babel.messages.frontend
translations: install
	$(BABEL) -q extract -F babel.cfg -k Text -c TRANSLATORS: --add-location=file --sort-by-file \
		--project="Testimony Archive" --omit-header -o archive/translations/messages.pot .
	$(BABEL) -q update -i archive/translations/messages.pot -d archive/translations --ignore-obsolete \
		--no-fuzzy-matching
	$(BABEL) -q compile -d archive/translations --statistics

clean:
	rm -rf demo-home .pytest_cache test-artifacts site
