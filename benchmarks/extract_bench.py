"""Documents in, measured (issue 24). Builds a folder of real-format files from real passages
(CMRC2018 zh-Hans, the same set through OpenCC as zh-Hant, JSQuAD ja, KorQuAD ko) with their
text known, then prints, in one run:

1. per format: files, pages, source sentences recovered by `yuyi extract` (strict: whitespace
   runs count as one space; lenient: whitespace ignored), boilerplate leaked, encodings right,
   files/s and pages/s; scanned pages through `--ocr` with character accuracy;
2. the same folder through LlamaIndex's SimpleDirectoryReader and markitdown: recovery and seconds;
3. retrieval on the folder vs the same texts as clean JSONL (each file's questions as queries):
   nDCG@10 and top-1;
4. hostile files over the CLI and a real `yuyi serve` process: each answer, the server's RSS
   before/after, and the collection's documents still all there.

    python -m benchmarks.extract_bench --out artifacts/extract-bench
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.common import peak_rss_mb, rss_mb
from yuyi.evaluate.doc_corpus import PLAN, Passage, write_corpus
from yuyi.evaluate.qa import QA_SETS
from yuyi.text import sentence_spans, to_traditional

YUYI = str(Path(sys.executable).parent / "yuyi")
LANG_SETS = {"zh": "cmrc2018", "zh-Hant": "cmrc2018", "ja": "jsquad", "ko": "korquad"}


def passages_by_lang(data_dir: Path, per_lang: int, seed: int = 7) -> tuple[dict, dict]:
    """{lang: [Passage]} and {passage text: [questions]} from the QA sets (articles' titles as headings)."""
    out, questions = {}, {}
    for lang, name in LANG_SETS.items():
        _, folder, files = QA_SETS[name]
        rows = []
        for fname in files:
            for art in json.loads((data_dir / folder / fname).read_text(encoding="utf-8"))["data"]:
                for para in art["paragraphs"]:
                    ctx = para["context"].strip()
                    qs = [q["question"].strip() for q in para["qas"] if not q.get("is_impossible")]
                    if 80 <= len(ctx) <= 700 and qs:
                        rows.append((art.get("title") or ctx[:12], ctx, qs))
        rng = random.Random(seed)
        rng.shuffle(rows)
        if lang == "zh-Hant":  # other passages than zh-Hans, in Traditional characters
            rows = [(to_traditional(t), to_traditional(c), [to_traditional(q) for q in qs])
                    for t, c, qs in rows[-2000:]]
        keep = []
        for title, ctx, qs in rows:  # the legacy-encoded text files pick passages their encoding can hold
            keep.append(Passage(title.strip(), ctx))
            questions[ctx] = qs[:3]
            if len(keep) >= per_lang:
                break
        out[lang] = keep
    return out, questions


def sentences(text: str) -> list[str]:
    return [" ".join(text[a:b].split()) for a, b in sentence_spans(text) if len(text[a:b].strip()) >= 4]


def recovery(passages: list[dict], text: str) -> tuple[int, int, int]:
    """(sentences, found strictly, found ignoring whitespace)."""
    strict, loose = " ".join(text.split()), "".join(text.split())
    n = s = lo = 0
    for p in passages:
        for sent in sentences(p["text"]):
            n += 1
            s += sent in strict
            lo += "".join(sent.split()) in loose
    return n, s, lo


def run_yuyi_extract(root: Path, include: list[str], ocr: bool) -> tuple[dict, float]:
    args = [YUYI, "extract", str(root), "--json"] + [a for g in include for a in ("--include", g)]
    t0 = time.perf_counter()
    r = subprocess.run(args + (["--ocr"] if ocr else []), capture_output=True, timeout=3600)
    seconds = time.perf_counter() - t0
    got = {}
    for line in r.stdout.decode().splitlines():
        row = json.loads(line)
        got[row["id"]] = row
    return got, seconds


def run_llamaindex(root: Path, files: list[Path]) -> tuple[dict, float, dict]:
    from llama_index.core import SimpleDirectoryReader

    t0 = time.perf_counter()
    texts, errors = defaultdict(str), {}
    for f in files:  # one reader per file: a failure is that file's, as in yuyi
        try:
            for d in SimpleDirectoryReader(input_files=[str(f)]).load_data():
                texts[str(f.relative_to(root))] += d.text + "\n"
        except Exception as exc:  # noqa: BLE001 - the peer's failure is a measurement
            errors[str(f.relative_to(root))] = f"{type(exc).__name__}: {exc}"[:120]
    return dict(texts), time.perf_counter() - t0, errors


def run_markitdown(root: Path, files: list[Path]) -> tuple[dict, float, dict]:
    from markitdown import MarkItDown

    md = MarkItDown()
    t0 = time.perf_counter()
    texts, errors = {}, {}
    for f in files:
        try:
            texts[str(f.relative_to(root))] = md.convert(str(f)).text_content
        except Exception as exc:  # noqa: BLE001
            errors[str(f.relative_to(root))] = f"{type(exc).__name__}: {exc}"[:120]
    return texts, time.perf_counter() - t0, errors


def table(headers: list[str], rows: list[list]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def pct(a: int, b: int) -> str:
    return f"{100 * a / b:.1f} %" if b else "-"


def extraction_tables(root: Path, manifest: list[dict], results: dict) -> None:
    from rapidfuzz.distance import Levenshtein

    by_fmt: dict[str, list[dict]] = defaultdict(list)
    for f in manifest:
        by_fmt[f["format"]].append(f)
    rows, totals = [], [0, 0, 0]
    for fmt, files in sorted(by_fmt.items()):
        got = results["yuyi"] if fmt not in ("scanned-pdf", "image") else results["yuyi-ocr"]
        n = s = lo = leaked = enc_ok = enc_n = pages = failed = 0
        acc = []
        for f in files:
            row = got.get(f["path"])
            if row is None or "error" in row:
                failed += 1
                text = ""
            else:
                text, pages = row["text"], pages + max(1, row["pages"])
                if f["encoding"]:
                    enc_n += 1
                    enc_ok += (row["encoding"] or "").replace("_", "") in _aliases(f["encoding"])
            a, b, c = recovery(f["passages"], text)
            n, s, lo = n + a, s + b, lo + c
            leaked += any(m in text for m in f["markers"])
            if fmt in ("scanned-pdf", "image"):
                page = f["passages"][0]["title"] + "".join(p["title"] + p["text"] for p in f["passages"])
                want = "".join(page.split())
                acc.append(1 - Levenshtein.distance("".join(text.split()), want) / len(want))
        if fmt not in ("scanned-pdf", "image"):
            totals = [totals[0] + n, totals[1] + s, totals[2] + lo]
        rows.append([fmt, len(files), pages, failed, f"{n}", pct(s, n), pct(lo, n), leaked,
                     f"{enc_ok}/{enc_n}" if enc_n else "-",
                     f"{sum(acc) / len(acc) * 100:.1f} %" if acc else "-"])
    print("\n## 1. yuyi extract per format\n")
    print(table(["format", "files", "pages", "failed", "sentences", "recovered (strict)", "recovered (lenient)",
                 "files leaking boilerplate", "encoding right", "OCR char accuracy"], rows))
    print(f"\nall text-layer formats: {pct(totals[1], totals[0])} strict, {pct(totals[2], totals[0])} lenient of "
          f"{totals[0]} sentences")
    t, o = results["seconds"]
    text_files = [f for f in manifest if f["format"] not in ("scanned-pdf", "image")]
    text_pages = sum(max(1, results["yuyi"][f["path"]].get("pages", 0) or 1) for f in text_files
                     if f["path"] in results["yuyi"])
    print(f"\nspeed (one `yuyi extract --json` process, {len(text_files)} files, start-up included): {t:.1f} s = "
          f"{len(text_files) / t:.1f} files/s, {text_pages / t:.1f} pages/s; OCR ({len(manifest) - len(text_files)} "
          f"scanned files, one page each): {o:.1f} s = {o / max(1, len(manifest) - len(text_files)):.1f} s a page")


def _aliases(enc: str) -> set[str]:
    return {"gb18030": {"gb18030"}, "gbk": {"gb18030", "gbk"}, "big5": {"big5", "big5hkscs", "cp950"},
            "shift_jis": {"cp932", "shiftjis"}, "euc_jp": {"eucjp"}, "euc_kr": {"cp949", "euckr"},
            "utf_16": {"utf16"}}[enc]


def peers_table(root: Path, manifest: list[dict], results: dict) -> None:
    rows = []
    files = [f for f in manifest if f["format"] not in ("scanned-pdf", "image")]
    for name in ("yuyi", "llamaindex", "markitdown"):
        texts, seconds, errors = results[name + "-texts"], results[name + "-seconds"], results[name + "-errors"]
        n = s = lo = leaked = 0
        per_fmt: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for f in files:
            a, b, c = recovery(f["passages"], texts.get(f["path"], ""))
            n, s, lo = n + a, s + b, lo + c
            per_fmt[f["format"]][0] += a
            per_fmt[f["format"]][1] += b
            leaked += any(m in texts.get(f["path"], "") for m in f["markers"])
        worst = ", ".join(f"{k} {pct(v[1], v[0])}" for k, v in sorted(per_fmt.items(), key=lambda kv: kv[1][1] /
                                                                        max(1, kv[1][0]))[:3])
        rows.append([name, len(files), len(errors), pct(s, n), pct(lo, n), leaked, f"{seconds:.1f}", worst])
    print("\n## 2. The same folder through the peers (text-layer files)\n")
    print(table(["reader", "files", "errors", "recovered (strict)", "recovered (lenient)", "files leaking boilerplate",
                 "seconds", "weakest formats (strict)"], rows))


def library_choice(root: Path, manifest: list[dict]) -> None:
    """The libraries yuyi's extractors were chosen from, on the same files: recovery and speed."""
    import io

    import docx
    import mammoth
    import pypdf
    import pypdfium2 as pdfium
    from pdfminer.high_level import extract_text as pdfminer_text

    from yuyi.extract import extract_file

    def pdfium_plain(path: Path) -> str:
        pdf = pdfium.PdfDocument(str(path))
        return "\n".join(pdf[i].get_textpage().get_text_bounded() for i in range(len(pdf)))

    def pypdf_text(path: Path) -> str:
        return "\n".join(p.extract_text() or "" for p in pypdf.PdfReader(str(path)).pages)

    def docx_plain(path: Path) -> str:
        return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)

    def mammoth_text(path: Path) -> str:
        with open(path, "rb") as f:
            return mammoth.extract_raw_text(io.BytesIO(f.read())).value

    candidates = {
        "pdf": [("yuyi (pypdfium2 + layout line joins)", lambda p: extract_file(p).text),
                ("pypdfium2, plain text", pdfium_plain), ("pdfminer.six", pdfminer_text), ("pypdf", pypdf_text)],
        "docx": [("yuyi (python-docx, tables, headings)", lambda p: extract_file(p).text),
                 ("python-docx paragraphs only", docx_plain), ("mammoth raw text", mammoth_text)],
    }
    rows = []
    for fmt, libs in candidates.items():
        files = [f for f in manifest if f["format"] == fmt]
        for name, fn in libs:
            n = s = lo = 0
            t0 = time.perf_counter()
            for f in files:
                try:
                    text = fn(root / f["path"])
                except Exception:  # noqa: BLE001 - a library's failure is a measurement
                    text = ""
                a, b, c = recovery(f["passages"], text)
                n, s, lo = n + a, s + b, lo + c
            took = time.perf_counter() - t0
            rows.append([fmt, name, len(files), pct(s, n), pct(lo, n), f"{took:.2f}", f"{len(files) / took:.1f}"])
    print("\n## 1b. Library choice (same files, in process)\n")
    print(table(["format", "library", "files", "recovered (strict)", "recovered (lenient)", "seconds", "files/s"],
                rows))


def retrieval_table(root: Path, manifest: list[dict], questions: dict, store: Path) -> dict:
    from yuyi.collection import open_collection
    from yuyi.evaluate.retrieval import single_positive_metrics

    jsonl = store.parent / "clean.jsonl"
    with jsonl.open("w", encoding="utf-8") as out:
        for f in manifest:
            text = "\n\n".join(f"{p['title']}\n{p['text']}" for p in f["passages"])
            out.write(json.dumps({"id": f["path"], "text": text}, ensure_ascii=False) + "\n")
    env = {**os.environ, "YUYI_STORE": str(store)}
    timings = {}
    for coll, src, extra in (("folder", str(root), ["--ocr", "--exclude", "manifest.json"]), ("clean", str(jsonl), [])):
        t0 = time.perf_counter()
        r = subprocess.run([YUYI, "index", coll, src, *extra, "--json"], capture_output=True, env=env, timeout=7200)
        timings[coll] = (time.perf_counter() - t0, json.loads(r.stdout.decode() or "{}"), r.returncode)
    queries = [(q, f["path"]) for f in manifest for p in f["passages"] for q in questions.get(p["text"], [])]
    rows, out = [], {}
    for coll in ("folder", "clean"):
        with open_collection(coll, str(store)) as c:
            results = c.search_many([q for q, _ in queries], top_k=10)
        ranks = [next((r.rank for r in rows_ if r.doc_id == gold), None) for rows_, (_, gold) in zip(results, queries,
                                                                                                    strict=True)]
        m = single_positive_metrics(ranks, 10)
        top1 = sum(1 for r in ranks if r == 1) / len(ranks)
        seconds, report, code = timings[coll]
        out[coll] = {**m, "top1": top1}
        rows.append([coll, report.get("indexed"), report.get("chunks"), code, f"{seconds:.0f}", len(queries),
                     f"{m['ndcg@10']:.4f}", f"{top1:.4f}"])
    print("\n## 3. Retrieval: the folder vs the same texts as clean JSONL (hybrid, e5-small INT8)\n")
    print(table(["input", "documents", "chunks", "exit", "index s", "queries", "nDCG@10", "top-1"], rows))
    d = (out["folder"]["ndcg@10"] - out["clean"]["ndcg@10"]) * 100
    d1 = (out["folder"]["top1"] - out["clean"]["top1"]) * 100
    print(f"\nfolder − clean: nDCG@10 {d:+.2f} points, top-1 {d1:+.2f}")
    return out


def hostile_table(work: Path, good: Path) -> None:
    import httpx

    from yuyi.evaluate.hostile_files import hostile_files

    # (a file over its time budget is killed with its worker: tests/extract, at a 0.5 s budget; a
    # real slow file here would only measure how long its legitimate text takes to embed)
    files = hostile_files()
    folder = work / "hostile"
    folder.mkdir()
    shutil.copy(good, folder / good.name)
    for name, data in files.items():
        (folder / name.replace("../", "up-").replace("/", "-")).write_bytes(data)
    env = {**os.environ, "YUYI_STORE": str(work / "hstore")}
    r = subprocess.run([YUYI, "index", "h", str(folder), "--json"], capture_output=True, env=env, timeout=1800)
    rep = json.loads(r.stdout.decode())
    print("\n## 4. Hostile files\n\nCLI: `yuyi index h FOLDER` (the hostile files plus one good file): exit code "
          f"{r.returncode}, {rep['indexed']} indexed, {rep['files_failed']} failed:\n")
    print(table(["file", "answer"], [[f["where"].rsplit("/", 1)[-1], f["reason"]] for f in rep["failed"]]))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = subprocess.Popen([YUYI, "serve", "--port", str(port), "--store", str(work / "sstore")], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        first = httpx.post(url + "/v1/collections/h/files", files=[("files", (good.name, good.read_bytes()))],
                           timeout=600)
        assert first.status_code == 200, first.text
        rows = []
        for name, data in files.items():
            before = (rss_mb(server.pid), peak_rss_mb(server.pid))
            t0 = time.perf_counter()
            resp = httpx.post(url + "/v1/collections/h/files", files=[("files", (name, data))], timeout=600)
            took = time.perf_counter() - t0
            after = (rss_mb(server.pid), peak_rss_mb(server.pid))
            body = resp.json()
            msg = body["files"][0].get("error", {}).get("message", "") if "files" in body else body.get("error", {})
            rows.append([name, f"{len(data) / 1024:.0f} KB", resp.status_code, str(msg)[:90], f"{took:.1f}",
                         f"{before[0]:.0f} → {after[0]:.0f}", f"{after[1]:.0f}"])
        listed = httpx.get(url + "/v1/collections/h/documents").json()["documents"]
        alive = httpx.get(url + "/readyz").status_code
        print("\nHTTP: a real `yuyi serve` process; one good file uploaded first, then each hostile file alone "
              "(POST /v1/collections/h/files):\n")
        print(table(["file", "size", "HTTP", "answer", "s", "server RSS MB before → after", "peak RSS MB"], rows))
        print(f"\nafterwards: /readyz {alive}; documents in the collection: {[d['id'] for d in listed]} "
              f"(the good file, nothing lost, nothing hostile indexed)")
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="artifacts/extract-bench")
    ap.add_argument("--per-lang", type=int, default=120, help="Passages per language (52 files a language use ~95).")
    ap.add_argument("--skip", default="", help="Comma-separated parts to skip: extract,peers,retrieval,hostile")
    args = ap.parse_args()
    import logging

    logging.disable(logging.WARNING)  # pdfminer logs a line per odd font in the peers' runs
    from yuyi.config import data_dir

    skip = set(filter(None, args.skip.split(",")))
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    root = out / "corpus"
    passages, questions = passages_by_lang(data_dir(), args.per_lang)
    t0 = time.perf_counter()
    write_corpus(root, passages, PLAN)
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    (root / "manifest.json").rename(out / "manifest.json")
    counts = defaultdict(int)
    for f in manifest:
        counts[f["format"]] += 1
    print(f"# Documents in: {len(manifest)} files in {len(passages)} languages ({dict(counts)}), written in "
          f"{time.perf_counter() - t0:.0f} s; CPU: {os.cpu_count()} cores\n")
    text_globs = [f"*/{fmt}-*" for fmt in ("pdf", "docx", "pptx", "xlsx", "html", "markdown", "epub", "email",
                                           "text-legacy", "text-utf16")]
    yuyi_rows, seconds = run_yuyi_extract(root, text_globs, ocr=False)
    results = {"yuyi": yuyi_rows}
    if "extract" not in skip:
        ocr_rows, ocr_seconds = run_yuyi_extract(root, ["*/scanned-pdf-*", "*/image-*"], ocr=True)
        results.update({"yuyi-ocr": ocr_rows, "seconds": (seconds, ocr_seconds)})
        extraction_tables(root, manifest, results)
        library_choice(root, manifest)
    if "peers" not in skip:
        files = [root / f["path"] for f in manifest if f["format"] not in ("scanned-pdf", "image")]
        results.update({"yuyi-texts": {k: v.get("text", "") for k, v in yuyi_rows.items()}, "yuyi-seconds": seconds,
                        "yuyi-errors": {k: v["error"] for k, v in yuyi_rows.items() if "error" in v}})
        for name, fn in (("llamaindex", run_llamaindex), ("markitdown", run_markitdown)):
            texts, secs, errors = fn(root, files)
            results.update({f"{name}-texts": texts, f"{name}-seconds": secs, f"{name}-errors": errors})
        peers_table(root, manifest, results)
    if "retrieval" not in skip:
        retrieval_table(root, manifest, questions, out / "store")
    if "hostile" not in skip:
        good = next(root / f["path"] for f in manifest if f["format"] == "docx")
        hostile_table(out, good)


if __name__ == "__main__":
    main()
