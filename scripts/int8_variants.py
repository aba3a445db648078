"""INT8 quantisation variants of the e5-small ONNX export against torch fp32, in one process:
model size, cosine on Korean Tatoeba sentences, Tatoeba kor top-1 (300 pairs), queries/s at batch 32.
Shows where the Korean loss of `onnx-int8` comes from (MatMul, not the word embedding).

Usage: python scripts/int8_variants.py   (run from the repository root; data in ../shared/data)
"""
import json
import shutil
import time
from pathlib import Path

from onnxruntime.quantization import QuantType, quantize_dynamic

from yuyi.evaluate.bitext import bitext_scores, load_tatoeba
from yuyi.models import load_encoder
from yuyi.models.loading import onnx_dir

src = onnx_dir("multilingual-e5-small", "onnx-int8")
torch_enc = load_encoder("multilingual-e5-small")
fp32_dir = Path("/tmp/e5-fp32")
if not (fp32_dir / "yuyi_onnx.json").exists():
    from yuyi.models.onnx_export import export_onnx
    export_onnx(torch_enc, fp32_dir, "onnx", overwrite=True)
variants = {}
for name, ops, rr in [("gather-only", ["Gather"], False), ("matmul+gather reduce_range", ["MatMul", "Gather"], True)]:
    d = Path(f"/tmp/e5-{name.replace(' ', '_').replace('+','_')}")
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(fp32_dir, d)
    (d / "model.onnx").unlink()
    quantize_dynamic(str(fp32_dir / "model.onnx"), str(d / "model.onnx"), per_channel=True, reduce_range=rr,
                     weight_type=QuantType.QInt8, op_types_to_quantize=ops)
    m = json.loads((d / "yuyi_onnx.json").read_text())
    m["format"] = "onnx-int8"
    (d / "yuyi_onnx.json").write_text(json.dumps(m))
    variants[name] = d
variants["default int8"] = src
cjk, eng = load_tatoeba("kor", "../shared/data", 300)
ref = bitext_scores(torch_enc, cjk, eng)["cjk_to_en"]
q = ["这款手表防水吗？", "서울에서 부산까지 얼마나 걸려요?", "東京タワーの高さは"] * 11
print("torch kor", ref)
for name, d in variants.items():
    e = load_encoder(str(d))
    e.encode(q[:32], kind="query")
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < 5:
        e.encode(q[:32], kind="query")
        n += 32
    cos = (torch_enc.encode(cjk[:200], kind="query") * e.encode(cjk[:200], kind="query")).sum(1)
    qps = round(n / (time.perf_counter() - t0))
    print(name, "MB", round((d / "model.onnx").stat().st_size / 2**20), "q/s b32", qps,
          "kor top1", round(bitext_scores(e, cjk, eng)["cjk_to_en"], 4),
          "cos mean/min", round(float(cos.mean()), 4), round(float(cos.min()), 4))
