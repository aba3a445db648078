"""E-mail (.eml) through the standard library: the subject is the title and heading, the body
is the text/plain part (or the text/html one, through the HTML extractor); attachments are
named, not read."""

from __future__ import annotations

from yuyi.extract.base import Extracted, ExtractError, Section
from yuyi.extract.html import all_text_sections


def extract_email(data: bytes, name: str) -> Extracted:
    from email import policy
    from email.parser import BytesParser

    try:
        msg = BytesParser(policy=policy.default).parsebytes(data)
    except Exception as exc:
        raise ExtractError(f"cannot parse the e-mail: {exc}") from exc
    subject = " ".join(str(msg.get("subject", "")).split())
    body = msg.get_body(preferencelist=("plain", "html"))
    sections: list[Section] = []
    if body is not None:
        try:
            content = body.get_content()
        except (LookupError, UnicodeDecodeError) as exc:
            raise ExtractError(f"cannot decode the e-mail body: {exc}") from exc
        if body.get_content_subtype() == "html":
            sections = all_text_sections(content)
        elif content.strip():
            sections = [Section(content.replace("\r\n", "\n").strip())]
    header = "\n".join(f"{k}: {' '.join(str(msg[k]).split())}" for k in ("subject", "from", "to", "date") if msg[k])
    attachments = [a.get_filename() for a in msg.iter_attachments() if a.get_filename()]
    if attachments:
        header += "\nattachments: " + ", ".join(attachments)
    if not sections and not subject:
        raise ExtractError("no subject and no text body in the e-mail")
    for s in sections:
        s.heading = (subject, *s.heading) if subject else s.heading
    return Extracted("email", [Section(header, None, (subject,) if subject else ()), *sections], title=subject)
