"""Quality smoke test on real data (Tatoeba cmn-eng, 1000 pairs)."""

from yuyi.evaluate.bitext import bitext_scores, load_tatoeba


def test_e5_small_finds_english_translations_of_chinese(e5, data_dir):
    cjk, eng = load_tatoeba("cmn", data_dir)
    assert len(cjk) == 1000
    scores = bitext_scores(e5, cjk, eng)
    print(f"multilingual-e5-small Tatoeba cmn-eng: {scores}")
    assert scores["cjk_to_en"] >= 0.85


def test_use_multilingual_finds_translations(use_model, data_dir):
    cjk, eng = load_tatoeba("cmn", data_dir)
    scores = bitext_scores(use_model, cjk, eng)
    print(f"use-multilingual Tatoeba cmn-eng: {scores}")
    assert scores["cjk_to_en"] >= 0.85
