"""Whether a model `yuyi train` produced may become a collection's model: held-out data decided
(`recommended` in its `yuyi_model.json`); one that made search worse is refused as a default
unless forced, as adapters and rerankers are. Catalog and hub models were not measured here."""

from __future__ import annotations

import json
from pathlib import Path

from yuyi.errors import InputError

MARKER = "yuyi_model.json"  # written last by `yuyi train` (yuyi.train.run)


def model_verdict(name: str) -> dict:
    """{"recommended": True/False/None, "why": …} for a model name or directory."""
    try:
        body = json.loads((Path(name).expanduser() / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"recommended": None, "why": "not trained by yuyi"}
    return {"recommended": body.get("recommended"),
            "why": body.get("why", "trained before tuned models were gated")}


def check_model_adoptable(name: str, force: bool = False, flag: str = "--force") -> dict:
    """Refuse to build a collection with a model measured worse than its base on held-out data:
    one line naming `flag`, which `force` stands for."""
    verdict = model_verdict(name)
    if verdict["recommended"] is False and not force:
        raise InputError(f"model {name} is marked not recommended ({verdict['why']}): a collection built with it "
                         f"would search worse than with its base model; pass {flag} to use it anyway")
    return verdict
