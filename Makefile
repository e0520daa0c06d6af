# NAND2LLM: the two commands a reader needs are `make test` and `make book`.
# Everything installs into .venv on first use, so both work on a fresh clone.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install sysdeps test test-slow book bench bench-serve corpus model tutor-sweep tutor-base tutor-chat tutor-tools export run-nbs clean

install: $(STAMP)

# Python packages: the package itself (editable) and what the tests and the book need.
$(STAMP): settings.ini setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing nand2llm and its development tools into $(VENV) (a few minutes on a fresh machine)"
	$(BIN)/python -m pip install --progress-bar on -e ".[dev]" 2>&1 | \
	  { grep --line-buffered -v -e "is ignored: it is neither a file nor a directory" \
	    -e "^Requirement already satisfied" || true; }
	@$(MAKE) --no-print-directory sysdeps
	@touch $(STAMP)

# Debian packages, only where missing: graphviz (diagrams), poppler-utils (PDF checks),
# fonts for the CJK and emoji examples of the tokenizer chapter, tmux (chapter 22's test of
# `nand2llm chat` in a real terminal), chromium (chapter 26's web page, tested headless through
# Playwright's Python package; never `playwright install`).
sysdeps:
	@missing=""; \
	command -v dot >/dev/null || missing="$$missing graphviz"; \
	command -v tmux >/dev/null || missing="$$missing tmux"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	fc-list 2>/dev/null | grep -c "WenQuanYi Micro Hei" >/dev/null || missing="$$missing fonts-wqy-microhei"; \
	fc-list 2>/dev/null | grep -c "Noto Color Emoji" >/dev/null || missing="$$missing fonts-noto-color-emoji"; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# The linter (unused imports and names in the package; pyproject.toml's [tool.ruff]), then every
# notebook's tests (slow cells skipped), the sync and layout checks, a smoke build of the book.
test: install sysdeps
	$(BIN)/ruff check nand2llm
	$(BIN)/python -m pytest -n 2 --dist load

# The same, with the slow cells (real training runs) included.
test-slow: install sysdeps
	$(BIN)/ruff check nand2llm
	NAND2LLM_TEST_FLAGS=slow $(BIN)/python -m pytest -n 2 --dist load

# The book: book/_build/html/index.html, book/_build/nand2llm.pdf, and README.md from nbs/index.ipynb.
book: install sysdeps
	$(BIN)/python book/build.py

# Our TinyGPT against the PyTorch reference, side by side at one thread (ABBA rounds): prints
# project/anchor ratios for training and generation, then each library's peak memory in a
# training run (CONFIG: a comma list of tiny, small, medium; about 4 minutes for the default).
CONFIG ?= small,medium
bench: install
	$(BIN)/python bench/compare.py --rounds 2 \
	  --anchor "$(BIN)/python bench/torch_tinygpt.py --threads 1 --config $(CONFIG) --attn explicit" \
	  --project "$(BIN)/python bench/nand2llm_tinygpt.py --threads 1 --config $(CONFIG)"
	$(BIN)/python bench/peak_memory.py --threads 1 --config $(CONFIG)

# Chapter 26's serving benchmark: the shipped tutor-chat served on loopback, 1/4/8/16 concurrent
# streaming clients: tokens/s and p50/p95 time to first token beside the engine's own batched
# generate (the ceiling); a separate target, so `make bench` keeps its time (about a minute).
bench-serve: install
	$(BIN)/python bench/serve.py

# The recorded corpus (chapter 9): nand2llm/corpus/book.jsonl.gz from the notebooks as they are now,
# python_docs.jsonl.gz from this Python's help. Everything that trains on "the book" reads these, so
# editing prose changes no model; re-recording is deliberate: commit it on its own, then re-run the
# chapters that train on the corpus (tools/run_nbs.py) and `make model`.
corpus: install
	$(BIN)/python -c "from nand2llm.data import record_snapshots; \
	  [print(name, header) for name, header in record_snapshots().items()]"

# The small TinyGPT shipped with the package (nand2llm/models/tiny-book), retrained from
# scratch from models/tiny-book.toml (about a minute on 2 cores); `nand2llm train` refuses
# a folder that already holds a run, so the old one goes first. tests/test_shipped_model.py
# checks it (re-record tests/suites/tiny-book.jsonl after retraining: see that test file).
# The same snapshot gives the same weights bit for bit on one machine (metrics.jsonl's first line: the data
# fingerprint); editing a chapter changes nothing until `make corpus` re-records the snapshot.
model: install
	rm -rf nand2llm/models/tiny-book
	$(BIN)/nand2llm train models/tiny-book.toml --out nand2llm/models/tiny-book --quiet
	rm nand2llm/models/tiny-book/train_state.safetensors     # ship the weights only

# Chapter 21's size sweep for the TinyTutor base model: three sizes, each about six minutes on an
# idle 2-core machine; their metrics logs are kept in models/tutor-base-sweep/ for the chapter's plot.
SWEEP := s128x4 s192x6 s256x6
tutor-sweep: install
	@for run in $(SWEEP); do \
	  rm -rf build/tutor-sweep/$$run; \
	  $(BIN)/nand2llm train models/tutor-base-sweep/$$run.toml --quiet || exit 1; \
	  cp build/tutor-sweep/$$run/metrics.jsonl models/tutor-base-sweep/$$run.metrics.jsonl; \
	done

# The TinyTutor base model (chapter 21): BPE with the chat tokens reserved, context 256, trained on
# the corpus snapshot from models/tutor-base.toml (about 30 minutes on 2 cores), shipped as float16
# weights, its tokenizer, config and metrics log (no optimizer state), and ship.json: the exact
# validation loss in float32 and after the float16 rounding.
tutor-base: install
	rm -rf build/tutor-base nand2llm/models/tutor-base
	$(BIN)/nand2llm train models/tutor-base.toml --quiet
	$(BIN)/python tools/ship_model.py build/tutor-base nand2llm/models/tutor-base

# TinyTutor the assistant (chapter 21): the base model fine-tuned on the instruction data built
# from the book's snapshot, as models/tutor-chat.toml says (steps, lr, batch, seed, LoRA); shipped
# as float16 weights with its tokenizer, tune.toml and metrics.jsonl (the held-out answer loss
# and key-term share before and after). tests/test_tutor_chat.py checks it.
tutor-chat: install
	rm -rf nand2llm/models/tutor-chat
	$(BIN)/nand2llm tune models/tutor-chat.toml --out nand2llm/models/tutor-chat

# TinyTutor with tools (chapter 24): the base model fine-tuned on chapter 21's instruction data
# plus the tool-use examples (calculator on the book's own numbers, search_book look-ups), as
# models/tutor-tools.toml says; shipped as float16 weights with its tokenizer, tune.toml and
# metrics.jsonl (valid-JSON, right-tool and right-arguments rates on held-out examples, before
# and after). About 2-4 minutes on 2 cores. tests/test_tutor_tools.py checks it.
tutor-tools: install
	rm -rf nand2llm/models/tutor-tools
	$(BIN)/python -c "from nand2llm.tools import tune_tools_main; \
	  tune_tools_main('models/tutor-tools.toml', 'nand2llm/models/tutor-tools')"

# Regenerate the package from the notebooks (tools/export.py: nbdev_export, repeatable for a chapter
# that exports several modules), and re-run notebooks to refresh the outputs the book shows.
export: install
	$(BIN)/python tools/export.py

run-nbs: install
	$(BIN)/python tools/run_nbs.py

clean:
	rm -rf book/_build _proc .pytest_cache
