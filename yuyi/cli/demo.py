"""`yuyi demo`: the README's main job on the embedded default (model + store)."""

from __future__ import annotations

import time
from importlib.resources import files

import typer
from rich.markup import escape

from yuyi.cli.common import STORE, console, err_console

# The same question in five scripts, plus unrelated ones: a working multilingual model puts
# the translations together and keeps the rest apart.
DEMO_SENTENCES = [
    ("zh-Hans", "这款手表防水吗？"),
    ("zh-Hant", "這款手錶防水嗎？"),
    ("ja", "この腕時計は防水ですか？"),
    ("ko", "이 시계는 방수가 되나요?"),
    ("en", "Is this watch waterproof?"),
    ("zh-Hans", "忘记密码了怎么办？"),
    ("ja", "パスワードを忘れました。"),
    ("en", "How do I reset my password?"),
]

# Queries against the bundled Chinese corpus (CMRC 2018 sample), with the document that answers.
DEMO_QUERIES = [
    ("zh-Hans", "《战国无双3》是由哪两个公司合作开发的？", "DEV_0"),
    ("zh-Hant", "銅鑼灣電車廠的前稱叫什麼？", "DEV_111"),
    ("ja", "武蔵浦和駅はどの鉄道会社の駅ですか？", "DEV_12"),
    ("en", "Which Shanghai metro line has the code L5?", "DEV_105"),
]
DEMO_COLLECTION = "demo_cmrc2018"


def demo(
    model: str = typer.Option(None, "--model", "-m", help="Model to demo.", show_default="multilingual-e5-small"),
    store: str = STORE,
) -> None:
    """Materialise the default model, compare sentences across scripts, index a real Chinese
    sample corpus and search it in Chinese, Traditional Chinese, Japanese and English."""
    from yuyi.cli.embed import similarity_table
    from yuyi.collection import open_collection
    from yuyi.index import open_store
    from yuyi.index.inputs.readers import read_documents
    from yuyi.models import load_encoder

    t0 = time.perf_counter()
    with err_console.status("preparing the model (the first run materialises it, ~10 s)…"):
        encoder = load_encoder(model)
    console.print(f"model [bold]{encoder.name}[/bold] · dim {encoder.dim} · source {escape(encoder.source)} "
                  f"· ready in {time.perf_counter() - t0:.1f} s")
    texts = [t for _, t in DEMO_SENTENCES]
    vectors = encoder.encode(texts, kind="query")
    labels = [f"{lang} {t}" for lang, t in DEMO_SENTENCES]
    console.print(similarity_table(labels, vectors @ vectors.T, f"cosine similarity · {encoder.name}"))

    st = open_store(store)
    corpus = str(files("yuyi") / "data" / "cmrc2018_sample.jsonl")
    collection = DEMO_COLLECTION if encoder.name == "multilingual-e5-small" else f"{DEMO_COLLECTION}_{encoder.dim}"
    if st.has_collection(collection) and st.info(collection).model != encoder.name:
        st.drop_collection(collection)
    coll = open_collection(collection, store=st, encoder=encoder)
    with err_console.status("indexing 150 CMRC 2018 passages (first run ~30 s; later runs skip unchanged)…"):
        report = coll.add(read_documents([corpus]))
    console.print(f"indexed [bold]{collection}[/bold] in {st!r}: {report.indexed} new, {report.skipped} unchanged, "
                  f"{coll.info().chunks} chunks · {report.seconds:.1f} s")
    hits = 0
    for lang, query, expected in DEMO_QUERIES:
        results = coll.search(query, mode="hybrid", top_k=3)
        console.print(f"\n[bold]{escape(f'[{lang}] {query}')}[/bold]  (hybrid, expected {expected})")
        for i, r in enumerate(results, start=1):
            mark = "✔" if r.doc_id == expected else " "
            ranks = "/".join(str(r.ranks.get(leg) or "-") for leg in ("dense", "keyword"))
            title = r.metadata.get("title", "")
            snippet = r.text[:50].replace("\n", " ")
            console.print(f"  {mark} {i}. {escape(r.doc_id)} {escape(title)} · score {r.score:.4f} · "
                          f"ranks dense/keyword {ranks} · {escape(snippet)}…", highlight=False)
        hits += bool(results) and results[0].doc_id == expected
    st.close()
    console.print(f"\n{hits}/{len(DEMO_QUERIES)} queries found their passage first · total "
                  f"{time.perf_counter() - t0:.1f} s. Try: yuyi search {collection} \"你的问题\"")
