"""`yuyi collections backup` / `restore`: one portable archive per collection, restorable into
any store without re-embedding (yuyi.index.ingest.backup)."""

from __future__ import annotations

import json

import typer

from yuyi.cli.common import STORE, console, err_console, progress_bar


def _bar(total: int, label: str):
    progress = progress_bar("chunks")
    task = progress.add_task(label, total=total or None)
    return progress, lambda n: progress.advance(task, n)


def collections_backup(
    name: str = typer.Argument(..., help="Collection to back up."),
    out: str = typer.Argument(..., help="Archive file to write (a plain tar; e.g. NAME.yuyi.tar)."),
    store: str = STORE,
    as_json: bool = typer.Option(False, "--json", help="Print the archive's manifest as JSON."),
) -> None:
    """Write one portable archive (documents, chunks, metadata, ACL, vectors, model, settings,
    a manifest with counts and checksums) while the collection keeps serving and taking writes."""
    from pathlib import Path

    from yuyi.index import open_store
    from yuyi.index.ingest.backup import backup_collection

    st = open_store(store)
    progress, advance = _bar(st.info(name).chunks, f"backing up {name}")
    with progress:
        manifest = backup_collection(st, name, out, advance)
    st.close()
    if as_json:
        print(json.dumps({k: v for k, v in manifest.items() if k != "files"}, ensure_ascii=False))
        return
    c = manifest["counts"]
    size = Path(out).stat().st_size / 1e6
    console.print(f"backed up {name}: {c['documents']} documents, {c['chunks']} chunks, model {manifest['model']} "
                  f"-> {out} ({size:.1f} MB) in {manifest['seconds']:.1f} s", highlight=False)
    if manifest["skipped_half_written"]:
        err_console.print(f"[yellow]warning:[/yellow] {manifest['skipped_half_written']} document(s) were being "
                          "written during the backup and are not in it; back up again to include them")


def collections_restore(
    archive: str = typer.Argument(..., help="Archive written by `yuyi collections backup`."),
    as_name: str = typer.Option(None, "--as", help="Restore under this name (default: the archived name)."),
    store: str = STORE,
) -> None:
    """Restore an archive into any store (embedded, Milvus Lite, a Milvus server): how a
    collection moves between stores without re-embedding. All or nothing."""
    from yuyi.index import open_store
    from yuyi.index.ingest.backup import read_manifest, restore_collection

    manifest = read_manifest(archive)
    st = open_store(store)
    progress, advance = _bar(manifest["counts"]["chunks"], f"restoring {as_name or manifest['collection']}")
    with progress:
        done = restore_collection(archive, st, as_name, advance)
    st.close()
    console.print(f"restored {done['collection']} into {st!r}: {done['documents']} documents, {done['chunks']} "
                  f"chunks (counts match the archive) in {done['seconds']:.1f} s, no re-embedding", highlight=False)
