"""`yuyi migrate`: move a live collection to another model without downtime, or roll back."""

from __future__ import annotations

import json

import typer

from yuyi.cli.common import BACKEND, STORE, console, err_console
from yuyi.errors import InputError


def migrate(
    collection: str = typer.Argument(..., help="The collection (the name clients use)."),
    model: str = typer.Option(None, "--model", "-m", help="The new model: catalog name, hub id or directory."),
    rollback: bool = typer.Option(False, "--rollback", help="Switch back to the version before the last "
                                  "migration (writes made since are copied back first)."),
    sample: int = typer.Option(20, "--sample", min=0, help="Chunks whose stored vectors are checked against the "
                               "new model before the switch."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as one JSON object."),
    force: bool = typer.Option(False, "--force", help="Migrate to a model `yuyi train` marked not recommended."),
    store: str = STORE,
    backend: str = BACKEND,
) -> None:
    """Re-embed COLLECTION with --model into a new version while it keeps serving and taking
    writes (they reach the new version too), verify counts and sampled vectors, then switch the
    name to it in one atomic step. `collections info` shows the history."""
    from yuyi.collection import open_collection

    if rollback == (model is not None):
        raise InputError("give either --model NEW (migrate) or --rollback")
    if model:
        from yuyi.models.verdict import check_model_adoptable

        check_model_adoptable(model, force)
    coll = open_collection(collection, store, backend=backend)
    if rollback:
        out = coll.rollback()
    else:
        with err_console.status(f"migrating {collection} to {model}…") as status:
            out = coll.migrate(model, backend=backend, sample=sample,
                               on_progress=lambda m: status.update(f"{collection}: {m}")).as_dict()
    coll.close()
    if as_json:
        print(json.dumps(out, ensure_ascii=False))
    elif rollback:
        console.print(f"{collection}: back on {out['to']} ({out['model']}); {out['caught_up']} documents written "
                      f"to {out['from']} since the switch were copied back")
    else:
        console.print(f"{collection}: now answered by {out['target']} ({out['model']}): {out['documents']} "
                      f"documents copied, {out['caught_up']} caught up in {out['passes']} pass(es), "
                      f"{out['verified'].get('sampled', 0)} sampled vectors checked "
                      f"(min cosine {out['verified'].get('min_cosine')}), {out['seconds']:.1f} s. "
                      f"Undo with `yuyi migrate {collection} --rollback`.")
