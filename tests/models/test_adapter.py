"""Query adapters at search time: the identity changes nothing, a trained map changes the dense
leg only, an adapter for another model or one measured worse is refused as a default, and a
stored adapter is applied the same by Python, the CLI, HTTP and the LangChain / LlamaIndex
adapters (tests/serve/test_adapter_front_ends.py). Logic, not quality: the hashing test encoder
(quality is benchmarks/adaptation.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from yuyi import open_collection
from yuyi.errors import InputError
from yuyi.models.adapter import load_adapter, save_adapter

DOCS = [
    {"id": "watch", "text": "这款防水手表适合游泳，续航十四天。"},
    {"id": "tea", "text": "龙井茶产于杭州西湖，以色绿、香郁、味甘、形美著称。"},
    {"id": "jp", "text": "この腕時計は防水で、水泳にも使えます。"},
    {"id": "ko", "text": "이 시계는 방수가 되어 수영할 때도 착용할 수 있습니다."},
    {"id": "ship", "text": "配送一般需要三天，偏远地区可能需要一周。"},
    {"id": "refund", "text": "七天无理由退货，退款三个工作日内到账。"},
]
QUERY = "游泳可以戴的手表"


def _adapter(path: Path, dim: int, model: str, scale: float = 0.0, recommended: bool | None = True) -> str:
    rng = np.random.default_rng(7)
    up = (rng.standard_normal((dim, dim)) * scale).astype(np.float32)
    gate = {"why": "test"} if recommended is not None else {}
    save_adapter(path, model, np.eye(dim, dtype=np.float32), up, {"recommended": recommended, "gate": gate})
    return str(path)


def _dump(results) -> list[str]:
    return [json.dumps(r.as_dict(), ensure_ascii=False, sort_keys=True) for r in results]


@pytest.fixture
def coll(hashing, tmp_path):
    c = open_collection("faq", str(tmp_path / "store"), encoder=hashing)
    c.add(DOCS)
    yield c
    c.close()


def test_identity_adapter_changes_nothing(coll, hashing, tmp_path):
    ident = _adapter(tmp_path / "ident", hashing.dim, hashing.name)
    for mode in ("dense", "hybrid"):
        assert _dump(coll.search(QUERY, mode=mode, top_k=6, adapter=ident)) == \
            _dump(coll.search(QUERY, mode=mode, top_k=6)), mode


def test_a_trained_map_moves_the_dense_leg_only(coll, hashing, tmp_path):
    moved = _adapter(tmp_path / "moved", hashing.dim, hashing.name, scale=0.5)
    dense = [r.score for r in coll.search(QUERY, mode="dense", top_k=6, adapter=moved)]
    assert dense != [r.score for r in coll.search(QUERY, mode="dense", top_k=6)]
    vec = hashing.encode([QUERY], kind="query")[0]
    adapted = load_adapter(moved).apply(vec)
    assert abs(float(np.linalg.norm(adapted)) - 1) < 1e-5 and not np.allclose(adapted, vec)
    assert _dump(coll.search(QUERY, mode="keyword", top_k=6, adapter=moved)) == \
        _dump(coll.search(QUERY, mode="keyword", top_k=6))


def test_refused_for_another_model_and_when_not_recommended(coll, hashing, tmp_path):
    other = _adapter(tmp_path / "other", hashing.dim, "multilingual-e5-small")
    with pytest.raises(InputError, match="trained for multilingual-e5-small"):
        coll.set_defaults(adapter=other)
    with pytest.raises(InputError, match="trained for multilingual-e5-small"):
        coll.set_defaults(adapter=other, force=True)  # another model's vectors: force cannot help
    with pytest.raises(InputError, match="trained for multilingual-e5-small"):
        coll.search(QUERY, mode="dense", adapter=other)
    worse = _adapter(tmp_path / "worse", hashing.dim, hashing.name, scale=0.5, recommended=False)
    with pytest.raises(InputError, match="not recommended"):
        coll.set_defaults(adapter=worse)
    assert coll.defaults.adapter is None
    assert coll.set_defaults(adapter=worse, force=True).adapter == str(Path(worse).resolve())
    with pytest.raises(InputError, match="not a query adapter"):
        coll.set_defaults(adapter=str(tmp_path))
    assert coll.set_defaults(adapter="none").adapter == "none"
    assert coll.store.get_meta("faq")["search_defaults"].get("adapter") is None  # removed, not stored as "none"


def test_a_changed_adapter_file_is_an_error_not_another_search(coll, hashing, tmp_path):
    path = Path(_adapter(tmp_path / "a", hashing.dim, hashing.name, scale=0.5))
    manifest = json.loads((path / "adapter.json").read_text())
    manifest["weights_sha256"] = "0" * 64
    (path / "adapter.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="does not match its manifest"):
        coll.search(QUERY, mode="dense", adapter=str(path))
