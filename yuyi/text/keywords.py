"""Keyword tokens for BM25, per language: without word segmentation, BM25 over Chinese is noise.

zh: jieba (the Rust port `rjieba`, same dictionary, ~13x faster) in search mode over text
folded to Simplified, so 防水腕錶 and 防水腕表 share tokens. ja: SudachiPy (mode C) with
sudachidict_small, or fugashi + unidic-lite; particles and symbols dropped. ko: syllable bigrams,
or kiwipiepy morphemes (the `kiwi` extra) with particles and endings dropped. Latin words are
lower-cased. Anything else CJK falls back to character bigrams. The language comes from
`detect` unless given.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import regex

from yuyi.text.detect import detect
from yuyi.text.normalize import normalise

ANALYZERS = ("zh", "ja", "ko", "en", "bigram")
ANALYZER_VERSION = 4  # bump when tokens change: stored documents are then re-tokenised (4: SudachiDict small)
JA_ANALYZERS = ("sudachi", "fugashi")
DEFAULT_JA_ANALYZER = "sudachi"
KO_ANALYZERS = ("bigram", "kiwi")
# Syllable bigrams, not Kiwi morphemes, by default: on KorQuAD passage retrieval BM25 nDCG@10 is
# 0.9403 with bigrams vs 0.9315 with Kiwi (Recall@10 0.988 vs 0.987), and Kiwi's model costs a
# serving process 320-500 MB of memory.
DEFAULT_KO_ANALYZER = "bigram"

_WORD = regex.compile(r"[\p{L}\p{N}][\p{L}\p{N}\p{M}_'-]*", flags=regex.V1)
_CJK_RUN = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}ー]+|[\p{L}\p{N}][\p{L}\p{N}\p{M}]*")
_HAS_WORD_CHAR = regex.compile(r"[\p{L}\p{N}]")

STOPWORDS = {
    "zh": frozenset("的 了 是 在 和 与 及 或 也 都 就 而 被 把 这 那 之 其 为 以 于 上 下 中 个"
                    " 着 过 吗 呢 吧 啊 我 你 他 她 它 我们 你们 他们 一个 什么 怎么 如何"
                    " 哪些 还是 已经 可以 没有 因为 所以 但是 如果".split()),
    "ja": frozenset("する ある いる なる れる られる こと もの よう ため これ それ あれ"
                    " この その あの ない です ます".split()),
    "ko": frozenset("하다 있다 되다 이다 것 수 등 그 이 저 않다 없다 같다".split()),
    "en": frozenset("a an the and or of to in on at for with by from is are was were be been it this that these those"
                    " as what which who how do does did not no".split()),
}


def keyword_tokens(text: str, lang: str | None = None, stopwords: bool = False, ja_analyzer: str | None = None,
                   ko_analyzer: str | None = None) -> list[str]:
    """BM25 tokens for `text`. `lang` may be a language code (zh-Hans, zh-Hant, zh, ja, ko, en)
    or an analyzer name (`bigram`); by default it is detected per text. Korean is cut into
    syllable bigrams unless `ko_analyzer="kiwi"` (morphemes; see DEFAULT_KO_ANALYZER)."""
    norm = normalise(text, lowercase=True)
    if not norm:
        return []
    analyzer = _analyzer_for(lang or detect(norm, use_lingua=False).lang)
    if analyzer == "zh":
        tokens = _zh(norm)
    elif analyzer == "ja":
        tokens = _ja(norm, ja_analyzer or DEFAULT_JA_ANALYZER)
    elif analyzer == "ko":
        ko = ko_analyzer or DEFAULT_KO_ANALYZER
        if ko not in KO_ANALYZERS:
            raise ValueError(f"ko_analyzer must be one of {KO_ANALYZERS}, not {ko!r}")
        tokens = _ko(norm) if ko == "kiwi" else _bigrams(norm)
    elif analyzer == "en":
        tokens = _WORD.findall(norm)
    else:
        tokens = _bigrams(norm)
    tokens = [t for t in tokens if _HAS_WORD_CHAR.search(t)]
    return drop_stopwords(tokens, analyzer) if stopwords else tokens


def drop_stopwords(tokens: list[str], lang: str) -> list[str]:
    """Tokens without the stop words of `lang`'s analyzer (and English ones, which mix in)."""
    analyzer = _analyzer_for(lang)
    if analyzer not in STOPWORDS:
        return tokens
    stop = STOPWORDS[analyzer] | STOPWORDS["en"]
    return [t for t in tokens if t not in stop]


def _analyzer_for(lang: str) -> str:
    base = lang.split("-")[0].lower()
    if base in ("zh", "ja", "ko", "en", "bigram"):
        return base
    if base == "other":
        return "bigram"
    raise ValueError(f"unknown language/analyzer {lang!r}; use one of zh, ja, ko, en, bigram")


def _zh(text: str) -> list[str]:
    import rjieba

    from yuyi.text.normalize import to_simplified

    return [t.strip() for t in rjieba.cut_for_search(to_simplified(text)) if t.strip()]


_per_thread = threading.local()


def _thread_own(key: str, make):
    """This thread's instance of an analyzer that may not be used by two threads at once."""
    instance = getattr(_per_thread, key, None)
    if instance is None:
        instance = make()
        setattr(_per_thread, key, instance)
    return instance


# Which SudachiDict package tokenises Japanese (its tokens are stored: one for every install). Small,
# not core: JSQuAD BM25 nDCG@10 0.9405 vs 0.9389, JaQuAD 0.9143 vs 0.9142, 87 MB less on disk.
SUDACHI_DICT = "small"


@lru_cache(maxsize=4)
def _sudachi_dictionary(name: str | None = None):
    from sudachipy import Dictionary

    return Dictionary(dict=name or SUDACHI_DICT)


def _sudachi():
    """This thread's Sudachi tokenizer (SudachiError "Tokenizer is already in use": concurrent
    Japanese searches on the server failed with one shared). They share one dictionary, so a
    tokenizer per thread costs little."""
    from sudachipy import SplitMode

    return _thread_own(f"sudachi-{SUDACHI_DICT}", lambda: _sudachi_dictionary(SUDACHI_DICT).tokenizer(
        mode=SplitMode.C)), SplitMode.C


def _fugashi():
    """This thread's MeCab tagger (MeCab taggers are not safe to share between threads either)."""
    import fugashi

    return _thread_own("fugashi", fugashi.Tagger)


_JA_DROP_POS = ("助詞", "助動詞", "補助記号", "空白", "記号")


def _ja(text: str, analyzer: str) -> list[str]:
    """Long units (mode C) plus their short parts (mode A) when they split, so a query's
    compound and a document's parts still meet (the "mixed" decompounding search engines use)."""
    if analyzer == "sudachi":
        tokenizer, _ = _sudachi()
        from sudachipy import SplitMode

        out = []
        for line in text.split("\n"):  # sudachi limits one input to 49149 bytes
            for i in range(0, len(line), 12000):
                for m in tokenizer.tokenize(line[i : i + 12000]):
                    if m.part_of_speech()[0] in _JA_DROP_POS:
                        continue
                    out.append(m.normalized_form())
                    parts = m.split(SplitMode.A)
                    if len(parts) > 1:
                        out += [p.normalized_form() for p in parts]
        return out
    if analyzer == "fugashi":
        return [w.feature.lemma or w.surface for w in _fugashi()(text) if w.feature.pos1 not in _JA_DROP_POS]
    raise ValueError(f"ja_analyzer must be one of {JA_ANALYZERS}, not {analyzer!r}")


@lru_cache(maxsize=1)
def _kiwi():
    """Kiwi without its multi-word dictionary: 180 MB less resident memory (500 → 320 MB) for
    the same keyword quality (KorQuAD BM25 nDCG@10 0.9315 → 0.9314, Recall@10 equal)."""
    try:
        from kiwipiepy import Kiwi
    except ImportError as exc:
        from yuyi.errors import InputError

        raise InputError("ko_analyzer='kiwi' needs kiwipiepy: `pip install 'yuyi[kiwi]'` (syllable bigrams, the "
                         "default, need nothing)") from exc
    return Kiwi(load_multi_dict=False)


_KIWI_LOCK = threading.Lock()
_KO_DROP_TAGS = ("J", "E", "XS", "SF", "SP", "SS", "SE", "SO", "SW", "W_")


def _ko(text: str) -> list[str]:
    """Morphemes without particles/endings; nouns of 3+ syllables also as syllable bigrams,
    because Kiwi splits a compound (남산타워 → 남산 + 타워) in one context and not in another."""
    out = []
    with _KIWI_LOCK:  # one Kiwi (~320 MB) per process; not one per thread
        tokens = _kiwi().tokenize(text)
    for t in tokens:
        if t.tag.startswith(_KO_DROP_TAGS):
            continue
        out.append(t.form)
        if t.tag.startswith("NN") and len(t.form) >= 3:
            out += [t.form[i : i + 2] for i in range(len(t.form) - 1)]
    return out


def _bigrams(text: str) -> list[str]:
    """Character bigrams inside CJK runs (unigram for a lone character), whole Latin/number words."""
    out = []
    for run in _CJK_RUN.findall(text):
        if _WORD.fullmatch(run) and not regex.match(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]", run):
            out.append(run)
        elif len(run) == 1:
            out.append(run)
        else:
            out += [run[i : i + 2] for i in range(len(run) - 1)]
    return out
