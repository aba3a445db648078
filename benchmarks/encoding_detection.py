"""How often yuyi.extract.plain.decode picks the right legacy encoding, and the rules it was
chosen from: real CMRC2018 (zh-Hans; zh-Hant through OpenCC), JSQuAD (ja) and KorQuAD (ko)
passages and their first two sentences, encoded in GB18030, Big5, Shift_JIS, EUC-JP and EUC-KR,
decoded back. Prints the share decoded exactly right per encoding for each ranking rule
(the shipped one is "plausibility - chaos").

    python -m benchmarks.encoding_detection
"""

from __future__ import annotations

import collections

from charset_normalizer import from_bytes

from yuyi.evaluate.qa import load_qa_retrieval
from yuyi.extract.plain import CANDIDATES, _canonical, _plausible
from yuyi.text import sentence_spans, to_traditional

ENCODINGS = {"zh": ["gb18030"], "zh-Hant": ["big5"], "ja": ["shift_jis", "euc_jp"], "ko": ["euc_kr"]}


def samples(per_set: int = 120) -> list[tuple[str, str, dict]]:
    sets = {"zh": load_qa_retrieval("cmrc2018").corpus[:per_set], "ja": load_qa_retrieval("jsquad").corpus[:per_set],
            "ko": load_qa_retrieval("korquad").corpus[:per_set]}
    sets["zh-Hant"] = [to_traditional(t) for t in sets["zh"]]
    out = []
    for lang, texts in sets.items():
        for enc in ENCODINGS[lang]:
            for t in texts:
                for piece in [t[a:b] for a, b in sentence_spans(t)][:2] + [t]:
                    try:
                        data = piece.encode(enc)
                    except UnicodeEncodeError:
                        continue
                    if all(b < 128 for b in data):
                        continue
                    decodings = {}
                    for e in CANDIDATES:
                        try:
                            decodings[e] = data.decode(e)
                        except UnicodeDecodeError:
                            pass
                    found = {_canonical(m.encoding): (m.chaos, m.coherence)
                             for m in from_bytes(data[:65536], cp_isolation=list(CANDIDATES))}
                    scored = {e: (txt, _plausible(txt), *found.get(_canonical(e), (1.0, 0.0)))
                              for e, txt in decodings.items()}
                    out.append((f"{lang}/{enc}", piece, scored))
    return out


def main() -> None:
    rows = samples()
    order = {e: i for i, e in enumerate(CANDIDATES)}
    rules = {
        "charset-normalizer's least chaos": lambda e, v: (-v[2], v[3], -order[e]),
        "plausibility": lambda e, v: (round(v[1], 3), -v[2], -order[e]),
        "plausibility - chaos (shipped)": lambda e, v: (v[1] - v[2], -order[e]),
        "plausibility - 2 chaos": lambda e, v: (v[1] - 2 * v[2], -order[e]),
        "plausibility - chaos + coherence": lambda e, v: (v[1] - v[2] + v[3], -order[e]),
    }
    print(f"{len(rows)} real sentences and passages, encoded and decoded back\n")
    print("| rule | " + " | ".join(sorted({t for t, _, _ in rows})) + " | all |")
    print("|---|" + "---|" * (len({t for t, _, _ in rows}) + 1))
    for name, key in rules.items():
        ok, n = collections.Counter(), collections.Counter()
        for tag, truth, cands in rows:
            best = max(cands, key=lambda e, c=cands: key(e, c[e]))
            n[tag] += 1
            ok[tag] += cands[best][0] == truth
        cells = " | ".join(f"{ok[t] / n[t]:.3f}" for t in sorted(n))
        print(f"| {name} | {cells} | {sum(ok.values()) / sum(n.values()):.4f} |")


if __name__ == "__main__":
    main()
