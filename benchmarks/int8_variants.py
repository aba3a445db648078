"""INT8 quantisation recipes for the e5-small ONNX export against torch fp32, in one process:
model size, cosine on Korean Tatoeba sentences, Tatoeba kor top-1 (all pairs), queries/s at
batch 32 and single-query p50. Shows why `onnx-int8` quantises weights only (7-bit range) and
keeps the first half of the feed-forward down-projections in fp32 (yuyi/models/onnx_export.py).

The last row is the product's own export (`export_onnx(..., "onnx-int8")`), not a copy of its
recipe. Usage: python -m benchmarks.int8_variants [--data-dir DIR]
"""
import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import onnx
from onnxruntime.quantization import QuantType, quantize_dynamic

from benchmarks.common import data_root
from yuyi.evaluate.bitext import bitext_scores, load_tatoeba
from yuyi.models import load_encoder
from yuyi.models.onnx_export import export_onnx

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument("--data-dir", help="default: YUYI_DATA_DIR")
root = data_root(ap.parse_args().data_dir)
work = Path(tempfile.mkdtemp(prefix="yuyi-int8-"))
torch_enc = load_encoder("multilingual-e5-small")
fp32_dir = export_onnx(torch_enc, work / "fp32", "onnx")  # optimised fp32 graph
nodes = onnx.load(str(fp32_dir / "model.onnx"), load_external_data=False).graph.node
attention = lambda n: n.name.endswith(("self/MatMul", "self/MatMul_1"))  # noqa: E731 (activation x activation)
lookups = lambda n: n.op_type == "Gather" and "word_embeddings" not in n.name  # noqa: E731
base = lambda n: attention(n) or lookups(n)  # noqa: E731
ffn2 = lambda n, layers: any(n.name.endswith(f"layer.{i}/output/dense/MatMul") for i in layers)  # noqa: E731
RECIPES = {  # name: (nodes kept fp32, 7-bit weight range)
    "all MatMul + embedding (recipe 1)": (lambda n: lookups(n), False),
    "weights only": (lambda n: attention(n) or lookups(n), False),
    "weights only, 7-bit": (lambda n: attention(n) or lookups(n), True),
    "weights only, 7-bit, FFN-down fp32 (all)": (lambda n: base(n) or ffn2(n, range(12)), True),
    "weights only, 7-bit, FFN-down fp32 (last 6)": (lambda n: base(n) or ffn2(n, range(6, 12)), True),
    "weights only, 7-bit, FFN-down fp32 (first 6)": (lambda n: base(n) or ffn2(n, range(6)), True),
    "yuyi's onnx-int8 export": (None, None),
}
cjk, eng = load_tatoeba("kor", root)
queries = ["这款手表防水吗？", "서울에서 부산까지 얼마나 걸려요?", "東京タワーの高さは"] * 11
ref = torch_enc.encode(cjk, kind="query")
print("torch fp32: kor top-1", round(bitext_scores(torch_enc, cjk, eng)["cjk_to_en"], 4), f"({len(cjk)} pairs)")
for name, (keep, seven_bit) in RECIPES.items():
    d = work / f"v{len(list(work.iterdir()))}"
    if keep is None:
        export_onnx(torch_enc, d, "onnx-int8")
    else:
        shutil.copytree(fp32_dir, d)
        quantize_dynamic(str(fp32_dir / "model.onnx"), str(d / "model.onnx"), per_channel=True,
                         reduce_range=seven_bit, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Gather"],
                         nodes_to_exclude=[n.name for n in nodes if keep(n)],
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        manifest = json.loads((d / "yuyi_onnx.json").read_text())
        (d / "yuyi_onnx.json").write_text(json.dumps({**manifest, "format": "onnx-int8"}))
    enc = load_encoder(str(d))
    enc.encode(queries[:32], kind="query")
    t0, n = time.perf_counter(), 0
    while time.perf_counter() - t0 < 5:
        enc.encode(queries[:32], kind="query")
        n += 32
    qps = n / (time.perf_counter() - t0)
    lat = []
    for i in range(150):
        s = time.perf_counter()
        enc.encode(queries[i % 3], kind="query")
        lat.append(time.perf_counter() - s)
    cos = (ref * enc.encode(cjk, kind="query")).sum(1)
    size = sum(f.stat().st_size for f in d.glob("model.onnx*"))
    print(f"{name}: {size / 2**20:.0f} MB | q/s b32 {qps:.0f} | "
          f"p50 {1000 * statistics.median(lat):.1f} ms | kor top-1 {bitext_scores(enc, cjk, eng)['cjk_to_en']:.4f} | "
          f"cos mean {cos.mean():.4f} min {cos.min():.4f}", flush=True)
shutil.rmtree(work)
