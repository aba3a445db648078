"""The bench chart (matplotlib, drawn off-screen)."""

from __future__ import annotations

from pathlib import Path


def draw_chart(results: list[dict], budget_ms: float, path: Path) -> None:
    """bench.png: nDCG@10 per (model, mode), and quality against p95 latency with the budget."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in results if not r.get("error")]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    labels, values = [], []
    for r in ok:
        for m in r["modes"]:
            labels.append(f"{r['model']}\n{m['mode']}")
            values.append(m["ndcg@10"])
    left.barh(range(len(values)), values, color="#4c72b0")
    left.set_yticks(range(len(values)), labels, fontsize=7)
    left.invert_yaxis()
    left.set_xlim(0, 1)
    left.set_xlabel("nDCG@10")
    left.set_title("quality")
    markers = {"dense": "o", "keyword": "s", "hybrid": "^"}
    for r in ok:
        for m in r["modes"]:
            right.scatter(m["p95_ms"], m["ndcg@10"], marker=markers.get(m["mode"], "o"),
                          label=f"{r['model']} · {m['mode']}")
    right.axvline(budget_ms, color="grey", linestyle="--", linewidth=1)
    right.set_xlabel("p95 latency, ms (dashed: budget)")
    right.set_ylabel("nDCG@10")
    right.set_title("quality vs latency")
    right.legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
