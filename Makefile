# Two commands on a fresh machine: `make demo` (set up + main job), `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.yuyi-installed
DATA_DIR ?= ../shared/data

.PHONY: setup demo check test test-slow lint quality perf browser system-packages load fast gpu-bench redteam eval \
	bench-demo bench-qa bench-docs benchmarks-md
# Experiments read the datasets only through YUYI_DATA_DIR (the `data_dir` setting).
BENCH := YUYI_DATA_DIR=$(DATA_DIR) $(PY) -m benchmarks
RESULTS := benchmarks/results

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

# The fast tier (logic with the hashing test encoder; no real model, server, browser or training): ≤ 3 min.
check: setup
	$(VENV)/bin/pytest -m "not slow and not heavy" -q

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
	$(VENV)/bin/ruff check yuyi tests benchmarks

quality: setup
	$(BENCH).model_quality
	$(BENCH).text_quality
	$(BENCH).retrieval_quality
	$(BENCH).keyword_leg_compare
	YUYI_DATA_DIR=$(DATA_DIR) $(VENV)/bin/yuyi bench qa cmrc2018 --out $(RESULTS)/qa-cmrc2018.json

perf: setup
	$(BENCH).index_perf

load: setup
	$(BENCH).serve_load

# Fast inference (issue 11): backends side by side, INT8 recipes, serving latency and RSS,
# ingest speed; gpu-bench only where a CUDA GPU is visible.
fast: setup
	YUYI_DATA_DIR=$(DATA_DIR) $(VENV)/bin/yuyi bench backends --backends torch,onnx,onnx-int8,openvino --out $(RESULTS)/backends.json
	$(VENV)/bin/yuyi bench serve --trimmed --out $(RESULTS)/serve.json
	$(BENCH).int8_variants
	$(BENCH).int8_static
	$(BENCH).ingest_speed --backends onnx-int8,openvino

gpu-bench: setup
	$(BENCH).gpu_bench

# The service's red-team scenarios at full size (≈ 15 min): drop loop, 200 MB uploads, poisoned
# batch, 1 MB ingest, 64-client flood, /metrics growth, model threads; then 2,000 schemathesis cases.
redteam: setup
	$(BENCH).serve_redteam
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
		$(BENCH).qa_bench_files $$set artifacts/bench/$$set-files && \
		$(VENV)/bin/yuyi bench --corpus artifacts/bench/$$set-files/corpus.jsonl \
			--queries artifacts/bench/$$set-files/queries.jsonl --qrels artifacts/bench/$$set-files/qrels.tsv \
			--out artifacts/bench/$$set || exit 1; \
	done

# Documents in (issue 24): a folder of ~200 real-format CJK files; extraction per format, the
# peers (LlamaIndex, markitdown), retrieval folder vs clean JSONL, hostile files over CLI and HTTP.
bench-docs: setup system-packages
	$(BENCH).extract_bench --out artifacts/extract-bench

# docs/benchmarks.md from the JSON results the measurements above wrote (each table says when,
# on which CPU and by which command it was measured).
benchmarks-md: setup
	$(VENV)/bin/yuyi bench report --results $(RESULTS) --out docs/benchmarks.md
