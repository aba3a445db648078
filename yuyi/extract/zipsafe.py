"""Office files and EPUBs are zips: a decompression bomb (a few KB that inflate to gigabytes)
is refused from the zip's central directory, before any library inflates a byte of it."""

from __future__ import annotations

import io
import zipfile

from yuyi.extract.base import ExtractError, Limits


def check_zip(data: bytes, limits: Limits) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ExtractError(f"not a valid zip container (Office/EPUB files are zips): {exc}") from exc
    infos = zf.infolist()
    if len(infos) > limits.zip_entries:
        raise ExtractError(f"zip holds {len(infos)} entries, over the limit of {limits.zip_entries}")
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if total > limits.zip_total:
        raise ExtractError(f"unpacks to {total / 2**20:.0f} MB, over the limit of {limits.zip_total / 2**20:.0f} MB "
                           "(a decompression bomb?)")
    if total > 1024 * 1024 and total / packed > limits.zip_ratio:
        raise ExtractError(f"compression ratio {total / packed:.0f}:1 is over the limit of {limits.zip_ratio:.0f}:1 "
                           "(a decompression bomb?)")
    return zf


def zip_kind(data: bytes) -> str | None:
    """Which Office/EPUB format a zip holds, from its entry names; None if none."""
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, ValueError):
        return None
    if "word/document.xml" in names:
        return "docx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "META-INF/container.xml" in names:
        return "epub"
    return None
