"""One .eml per document for the user's mail client: nothing is sent."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from xl_addin.documents.files import write_new

_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


def one_line(text: str) -> str:
    """A header value on one line: a line break in a customer's name or e-mail (typed with
    Alt+Enter, pasted) would start a header of its own, which the e-mail library refuses."""
    return " ".join(_BREAKS.sub(" ", text).split())


def write_eml(
    path: Path,
    to: str,
    subject: str,
    body: str,
    attachments: Sequence[Path],
    sender: str | None = None,
    *,
    sync: bool = True,
) -> Path:
    """Write a draft message (X-Unsent: 1, so Outlook opens it ready to send); with
    sync=False the caller syncs it (documents.files.sync_files)."""
    message = EmailMessage()
    message["To"] = one_line(to)
    if sender:
        message["From"] = one_line(sender)
    message["Subject"] = one_line(subject)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid()
    message["X-Unsent"] = "1"
    message.set_content(body)
    for attachment in attachments:
        kind = mimetypes.guess_type(attachment.name)[0] or "application/octet-stream"
        main, sub = kind.split("/", 1)
        message.add_attachment(
            attachment.read_bytes(), maintype=main, subtype=sub, filename=attachment.name
        )
    return write_new(path, bytes(message), sync=sync)
