"""OCR for scanned PDF pages and images through Tesseract (Debian's `tesseract-ocr` with the
chi-sim, chi-tra, jpn and kor data; `pip install yuyi[ocr]` for pytesseract). Tesseract puts a
space between every pair of Chinese or Japanese characters; those spaces are removed."""

from __future__ import annotations

from functools import cache

import regex

from yuyi.extract.base import Extracted, ExtractError, Limits, Section, unwrap

RENDER_DPI = 200  # the usual scan resolution: rendering a 200-dpi scan at 300 added artifacts Tesseract read as text
# Tesseract page segmentation 4 (one column of text, lines of varying size): mode 3 (automatic)
# dropped whole lines of printed Korean and Chinese pages; 4 read them all.
PAGE_SEGMENTATION = 4
_GAP = regex.compile(r"(?<=[\p{Han}\p{Hiragana}\p{Katakana}\u3000-\u303f\uff00-\uffef])[ \t]+"
                     r"(?=[\p{Han}\p{Hiragana}\p{Katakana}\u3000-\u303f\uff00-\uffef])")


@cache  # one `tesseract --version` a process, not one per Tesseract call (up to four a page)
def _tesseract():
    try:
        import pytesseract
    except ImportError as exc:
        raise ExtractError("OCR needs the `ocr` extra: pip install 'yuyi[ocr]' (and Debian's tesseract-ocr "
                           "with tesseract-ocr-chi-sim, -chi-tra, -jpn, -kor)") from exc
    try:
        pytesseract.get_tesseract_version()
    except pytesseract.TesseractNotFoundError as exc:
        raise ExtractError("OCR needs the tesseract program: apt-get install tesseract-ocr tesseract-ocr-chi-sim "
                           "tesseract-ocr-chi-tra tesseract-ocr-jpn tesseract-ocr-kor") from exc
    return pytesseract


# The Tesseract model for each language yuyi detects: one model reads its own script far better
# than the four mixed (measured: Korean pages lost most of their text under chi_sim+jpn+kor+eng).
TESSERACT_LANG = {"zh-Hans": "chi_sim+eng", "zh-Hant": "chi_tra+eng", "ja": "jpn+eng", "ko": "kor+eng", "en": "eng"}


def _call(fn, *args, limits: Limits, **kw):
    tess = _tesseract()
    try:
        return fn(*args, config=f"--psm {PAGE_SEGMENTATION}", timeout=max(1, int(limits.seconds)), **kw)
    except RuntimeError as exc:  # pytesseract's timeout
        raise ExtractError(f"OCR took over {limits.seconds:g} s; stopped") from exc
    except tess.TesseractError as exc:
        raise ExtractError(f"OCR failed: {str(exc).strip()[:200]}") from exc


def _read(image, langs: str, limits: Limits) -> str:
    text = _call(_tesseract().image_to_string, image, lang=langs, limits=limits)
    return unwrap("\n".join(_GAP.sub("", ln) for ln in text.splitlines()))


def _confidence(image, langs: str, limits: Limits) -> float:
    tess = _tesseract()
    data = _call(tess.image_to_data, image, lang=langs, limits=limits, output_type=tess.Output.DICT)
    confs = [float(c) for w, c in zip(data["text"], data["conf"], strict=True) if w.strip()]
    return sum(confs) / len(confs) if confs else 0.0


def ocr_image(image, limits: Limits) -> str:
    """Read with every configured language, detect the language of what came out, and read again
    with that language's own model. For Chinese the Simplified or the Traditional model is
    chosen by Tesseract's own confidence: the Simplified model reads Traditional text as
    Simplified characters, so the first pass cannot tell the two apart."""
    from yuyi.text import detect

    text = _read(image, limits.ocr_langs, limits)
    lang = detect(text).lang if text.strip() else None
    if lang in ("zh-Hans", "zh-Hant"):
        simp, trad = TESSERACT_LANG["zh-Hans"], TESSERACT_LANG["zh-Hant"]
        lang = "zh-Hant" if _confidence(image, trad, limits) > _confidence(image, simp, limits) else "zh-Hans"
    own = TESSERACT_LANG.get(lang or "")
    if own and own != limits.ocr_langs:
        text = _read(image, own, limits) or text
    return text


def ocr_page(page, limits: Limits) -> str:
    """A PDF page (pypdfium2) rendered at RENDER_DPI and read."""
    return ocr_image(page.render(scale=RENDER_DPI / 72).to_pil(), limits)


def extract_image(data: bytes, name: str, limits: Limits) -> Extracted:
    if not limits.ocr:
        raise ExtractError("an image: index with --ocr to read its text")
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > 100_000_000:
            raise ExtractError(f"image of {image.width}x{image.height} pixels is too large to OCR")
        image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise ExtractError(f"not a readable image: {exc}") from exc
    text = ocr_image(image, limits)
    if not text.strip():
        raise ExtractError("OCR found no text in the image")
    return Extracted("image", [Section(text, 1)], pages=1, ocr_pages=1)
