"""`yuyi search` and `yuyi collections`: the main job from the command line (`yuyi index` is in
yuyi.cli.files)."""

from __future__ import annotations

import json
import sys

import typer
from rich.markup import escape
from rich.table import Table

from yuyi.cli.common import BACKEND, STORE, console, err_console
from yuyi.cli.files import location
from yuyi.cli.search_options import search_options
from yuyi.errors import InputError
from yuyi.search import params as P

# What `yuyi search --json` prints per result (SearchResult's fields, in order).
JSON_FIELDS = ("id", "doc_id", "score", "rank", "text", "metadata", "ranks", "lang", "start", "end", "highlights",
               "source", "matched_chunks", "rerank_score", "explain")

collections_app = typer.Typer(help="List, inspect, drop, back up and restore collections.", no_args_is_help=True)


def _store(uri: str | None):
    from yuyi.index import open_store

    return open_store(uri)


@search_options()
def search(
    collection: str = typer.Argument(..., help="Collection to search."),
    query: str = typer.Argument(None, help="The query (or use --queries FILE)."),
    queries: str = typer.Option(None, "--queries", help="Queries file: txt (one per line), tsv `id<TAB>query` or "
                                "jsonl with 'query'."),
    as_json: bool = typer.Option(False, "--json", help="JSON lines, one per result: " + ", ".join(JSON_FIELDS)
                                 + "; with --queries first query_index, query_id and query; with --facets a last line "
                                 "{\"query_index\", \"facets\"} per query."),
    store: str = STORE,
    backend: str = BACKEND,
    bundle: str = typer.Option(None, "--bundle", help="Search an edge bundle (`yuyi export --bundle`) instead of "
                               "a store: `yuyi search --bundle DIR QUERY`."),
    settings: dict | None = None,
) -> None:
    """Search a collection by meaning, keyword or both."""
    from yuyi.collection import open_collection
    from yuyi.index.inputs.judgments import read_queries

    if bundle is not None and query is None and queries is None:
        query, collection = collection, None  # `yuyi search --bundle DIR QUERY`: the only argument is the query
    if (query is None) == (queries is None):
        raise InputError("give either a QUERY argument or --queries FILE")
    settings = settings or {}
    P.SearchParams().replace(**settings)  # checked before anything loads
    if settings.get("filter") is not None:
        from yuyi.index.stores.filters import parse

        parse(settings["filter"])  # a bad filter is reported before anything loads
    qs = [(q.id, q.text) for q in read_queries(queries)[0]] if queries else [("q1", query)]
    with err_console.status("loading model…"):
        if bundle is not None:
            from yuyi.export.bundle import open_bundle

            st, name, encoder = open_bundle(bundle)
            if collection not in (None, name):
                raise InputError(f"the bundle holds collection {name!r}, not {collection!r}")
            collection = name
            coll = open_collection(name, st, encoder=encoder)
        else:
            coll = open_collection(collection, store, backend=backend)
        if settings.get("rerank") and settings["rerank"] != P.NO_RERANK:
            from yuyi.rerank import cached_reranker, reranker_verdict

            cached_reranker(settings["rerank"], coll.device)  # a reranker that cannot load fails before the search
            verdict = reranker_verdict(settings["rerank"])
            if verdict["recommended"] is False:
                err_console.print(f"[yellow]warning:[/yellow] reranker {settings['rerank']} is marked not "
                                  f"recommended ({verdict['why']})", highlight=False, soft_wrap=True)
    params = coll.defaults.replace(**settings)  # None: the collection's default
    results = coll.search_many([q for _, q in qs], params)
    if len(results) == 1 and results[0].next_cursor:
        err_console.print(f"more results: add --cursor {results[0].next_cursor}", highlight=False, soft_wrap=True)
    for rows in results:
        if rows.rerank and not rows.rerank["applied"]:
            err_console.print(f"[yellow]reranking skipped[/yellow]: it would take over {params.rerank_budget_ms:g} ms; "
                              "these results are in retrieval order")
    if as_json:
        for qi, ((qid, q), rows) in enumerate(zip(qs, results, strict=True)):
            for r in rows:
                d = r.as_dict()
                if queries:
                    d = {"query_index": qi, "query_id": qid, "query": q, **d}
                sys.stdout.write(json.dumps(d, ensure_ascii=False) + "\n")
            if rows.facets is not None:  # asked for with --facets: one more line per query
                sys.stdout.write(json.dumps({"query_index": qi, "facets": rows.facets}, ensure_ascii=False) + "\n")
        return
    for (_, q), rows in zip(qs, results, strict=True):
        reranked = bool(rows.rerank and rows.rerank["applied"])
        how = f" · reranked by {rows.rerank['model']} (top {rows.rerank['depth']})" if reranked else ""
        table = Table(title=f"{escape(q)} · {params.mode}{escape(how)} · {collection}", show_lines=False)
        cols = ("#", "rerank", "was #", "score", "doc", "lang", "ranks d/k", "text") if reranked else \
            ("#", "score", "doc", "lang", "ranks d/k", "text")
        for col in cols:
            table.add_column(col, overflow="fold")
        for r in rows:
            ranks = "/".join(str(r.ranks.get(leg) or "-") for leg in ("dense", "keyword"))
            extra = ([f"{r.rerank_score:.4f}" if r.rerank_score is not None else "-",
                      str(r.ranks.get("retrieval") or "-")] if reranked else [])
            where = location(r.metadata)
            table.add_row(str(r.rank), *extra, f"{r.score:.4f}", escape(r.doc_id + (f" · {where}" if where else "")),
                          r.lang, ranks,
                          _marked(r.text, r.highlights))
        console.print(table)
        if not rows:
            console.print("[dim]no good match[/dim]" if params.min_score is not None else "[dim]no results[/dim]")
        for r in rows:
            if r.explain:
                legs = " + ".join(
                    f"{leg} {'-' if x['score'] is None else x['score']} (#{x['rank'] or '-'}"
                    f"{', share ' + str(x['contribution']) if 'contribution' in x else ''})"
                    for leg, x in r.explain["legs"].items())
                console.print(f"#{r.rank} {r.explain['score']} = {escape(legs)}", highlight=False)
        for key, values in (rows.facets or {}).items():
            console.print(f"[bold]{escape(key)}[/bold]: " + " · ".join(f"{escape(str(v['value']))} ({v['count']})"
                                                                      for v in values) or "—", highlight=False)


def _marked(text: str, spans: list[tuple[int, int]], width: int = 160) -> str:
    """The text with keyword hits in bold yellow, clipped around the first hit."""
    start = max(0, spans[0][0] - 30) if spans else 0
    end = min(len(text), start + width)
    out, pos = [], start
    for a, b in spans:
        if a < start or b > end:
            continue
        out.append(escape(text[pos:a]))
        out.append(f"[bold yellow]{escape(text[a:b])}[/bold yellow]")
        pos = b
    out.append(escape(text[pos:end]))
    clip = ("…" if start else "") + "".join(out) + ("…" if end < len(text) else "")
    return clip.replace("\n", " ")


@collections_app.command("list")
def collections_list(store: str = STORE, as_json: bool = typer.Option(False, "--json")) -> None:
    """Collections in the store, with model and counts."""
    st = _store(store)
    infos = [st.info(n) for n in st.list_collections()]
    if as_json:
        for i in infos:
            print(json.dumps(i.__dict__, ensure_ascii=False))
        return
    table = Table(title=f"collections in {st!r}")
    for col in ("name", "model", "dim", "documents", "chunks", "backend"):
        table.add_column(col)
    for i in infos:
        table.add_row(i.name, i.model, str(i.dim), str(i.documents), str(i.chunks), i.backend)
    console.print(table)


@collections_app.command("info")
def collections_info(name: str, store: str = STORE) -> None:
    """Details of one collection as JSON."""
    print(json.dumps(_store(store).info(name).__dict__, ensure_ascii=False, indent=2))


@collections_app.command("drop")
def collections_drop(name: str, store: str = STORE,
                     yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")) -> None:
    """Delete a collection and everything in it (both legs)."""
    st = _store(store)
    info = st.info(name)
    if not yes and not typer.confirm(f"drop {name} ({info.documents} documents, {info.chunks} chunks)?"):
        raise typer.Abort()
    st.drop_collection(name)
    console.print(f"dropped {name}")




@collections_app.command("defaults")
@search_options(P.TUNABLE, as_default=True)
def collections_defaults(name: str, store: str = STORE,
                         force: bool = typer.Option(False, "--force", help="Store an adapter or reranker marked "
                                                    "not recommended (measured worse on held-out data)."),
                         settings: dict | None = None) -> None:
    """Show or set the search defaults stored with a collection (`yuyi tune --apply` sets them
    from measurements); every front end uses them for settings a search leaves out.
    `--adapter none` removes a stored query adapter."""
    from yuyi.collection import open_collection

    coll = open_collection(name, store)
    coll.info()  # a missing collection is an error here, not an empty default
    given = settings or {}
    params = coll.set_defaults(force, **given) if any(v is not None for v in given.values()) else coll.defaults
    print(json.dumps({k: getattr(params, k) for k in P.TUNABLE}, ensure_ascii=False))
    coll.close()
