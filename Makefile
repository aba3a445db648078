# Two commands on a fresh machine: `make demo` (set up + main job), `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.yuyi-installed
DATA_DIR ?= ../shared/data

.PHONY: setup demo test test-slow lint quality perf browser system-packages load fast gpu-bench redteam eval bench-demo bench-qa bench-docs

setup: $(STAMP)

# torch first, from the CPU build: anything that pulls torch by itself gets a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	$(VENV)/bin/yuyi models pull multilingual-e5-small
	touch $(STAMP)

demo: setup
	$(VENV)/bin/yuyi demo

test: setup system-packages
	$(VENV)/bin/pytest -m "not slow" -q

# Debian packages the tests drive: Chromium (the browser test; it also prints the CJK PDFs the
# extraction tests read, with Noto CJK fonts) and Tesseract with its Chinese, Japanese and Korean
# data (`yuyi index --ocr`). Playwright's own browser download cannot work here.
SYSTEM_PACKAGES := chromium fonts-noto-cjk tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-chi-tra \
	tesseract-ocr-jpn tesseract-ocr-kor
system-packages:
	@(command -v chromium && fc-list | grep -qi "noto sans cjk" && tesseract --list-langs 2>&1 | grep -q kor) \
		>/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null) || \
		echo "warning: $(SYSTEM_PACKAGES) not installed; browser, PDF and OCR tests skipped"

browser: system-packages

test-slow: setup
	YUYI_DATA_DIR=$(DATA_DIR) $(VENV)/bin/pytest -m slow -q

lint: setup
	$(VENV)/bin/ruff check yuyi tests scripts

quality: setup
	$(PY) scripts/model_quality.py --data-dir $(DATA_DIR)
	$(PY) scripts/text_quality.py --data-dir $(DATA_DIR)
	$(PY) scripts/retrieval_quality.py --data-dir $(DATA_DIR)
	$(PY) scripts/keyword_leg_compare.py --data-dir $(DATA_DIR)

perf: setup
	$(PY) scripts/index_perf.py --data-dir $(DATA_DIR)

load: setup
	$(PY) scripts/serve_load.py

# Fast inference (issue 11): backends side by side, INT8 recipes, serving latency and RSS,
# ingest speed; gpu-bench only where a CUDA GPU is visible.
fast: setup
	$(PY) scripts/onnx_bench.py --data-dir $(DATA_DIR) --limit 500
	$(PY) scripts/int8_variants.py
	$(PY) scripts/serve_search_latency.py
	$(PY) scripts/ingest_speed.py --data-dir $(DATA_DIR)

gpu-bench: setup
	$(PY) scripts/gpu_bench.py --data-dir $(DATA_DIR)

# The service's red-team scenarios at full size (≈ 15 min): drop loop, 200 MB uploads, poisoned
# batch, 1 MB ingest, 64-client flood, /metrics growth, model threads; then 2,000 schemathesis cases.
redteam: setup
	$(PY) scripts/serve_redteam.py --data-dir $(DATA_DIR)
	YUYI_FUZZ_EXAMPLES=2000 $(VENV)/bin/pytest -q -s tests/serve/test_schema_fuzz.py

# The CJK benchmark suite over every dataset, three models (≈ 45 min cold on 2 cores; cached reruns are fast).
eval: setup
	$(VENV)/bin/yuyi eval --model multilingual-e5-small,use-multilingual,all-MiniLM-L6-v2 --data-dir $(DATA_DIR) \
		--out artifacts/eval-full

# A short bake-off on the bundled sample corpus (silver queries), about a minute and a half.
bench-demo: setup
	$(VENV)/bin/yuyi bench --corpus yuyi/data/cmrc2018_sample.jsonl --models multilingual-e5-small,all-MiniLM-L6-v2 \
		--out artifacts/bench/demo

# The bake-off on real QA sets: CMRC2018 (zh) and KorQuAD (ko) contexts with their questions as gold qrels.
bench-qa: setup
	for set in cmrc2018 korquad; do \
		$(PY) scripts/qa_bench_files.py $$set artifacts/bench/$$set-files --data-dir $(DATA_DIR) && \
		$(VENV)/bin/yuyi bench --corpus artifacts/bench/$$set-files/corpus.jsonl \
			--queries artifacts/bench/$$set-files/queries.jsonl --qrels artifacts/bench/$$set-files/qrels.tsv \
			--out artifacts/bench/$$set || exit 1; \
	done

# Documents in (issue 24): a folder of ~200 real-format CJK files; extraction per format, the
# peers (LlamaIndex, markitdown), retrieval folder vs clean JSONL, hostile files over CLI and HTTP.
bench-docs: setup system-packages
	YUYI_DATA_DIR=$(DATA_DIR) $(PY) scripts/extract_bench.py --out artifacts/extract-bench
