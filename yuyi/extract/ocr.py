"""OCR for scanned PDF pages and images through Tesseract (Debian's `tesseract-ocr` with the
chi-sim, chi-tra, jpn and kor data; `pip install yuyi[ocr]` for pytesseract). Tesseract puts a
space between every pair of Chinese or Japanese characters; those spaces are removed."""

from __future__ import annotations

import regex

from yuyi.extract.base import Extracted, ExtractError, Limits, Section, unwrap

RENDER_DPI = 300
# Tesseract page segmentation 4 (one column of text, lines of varying size): mode 3 (automatic)
# dropped whole lines of printed Korean and Chinese pages; 4 read them all.
PAGE_SEGMENTATION = 4
_GAP = regex.compile(r"(?<=[\p{Han}\p{Hiragana}\p{Katakana}\u3000-\u303f\uff00-\uffef])[ \t]+"
                     r"(?=[\p{Han}\p{Hiragana}\p{Katakana}\u3000-\u303f\uff00-\uffef])")


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


def _read(tess, image, langs: str, limits: Limits) -> str:
    try:
        text = tess.image_to_string(image, lang=langs, config=f"--psm {PAGE_SEGMENTATION}",
                                    timeout=max(1, int(limits.seconds)))
    except RuntimeError as exc:  # pytesseract's timeout
        raise ExtractError(f"OCR took over {limits.seconds:g} s; stopped") from exc
    except tess.TesseractError as exc:
        raise ExtractError(f"OCR failed: {str(exc).strip()[:200]}") from exc
    return unwrap("\n".join(_GAP.sub("", ln) for ln in text.splitlines()))


def ocr_image(image, limits: Limits) -> str:
    """Read with every configured language, detect the language of what came out, and read again
    with that language's own model when it is a different set."""
    from yuyi.text import detect

    tess = _tesseract()
    text = _read(tess, image, limits.ocr_langs, limits)
    lang = detect(text).lang if text.strip() else None
    own = TESSERACT_LANG.get(lang or "")
    if own and own != limits.ocr_langs:
        text = _read(tess, image, own, limits) or text
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
