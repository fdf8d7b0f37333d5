"""The "Get Started" link of an invitation email as delivered over SMTP (rule 22)."""

from __future__ import annotations

import re
import time

from tests.support.smtp import SmtpSink

LINK = re.compile(r"https?://[\w.:-]+/console/invitations/\d+")


def delivered_links(mail: SmtpSink) -> list[tuple[str, str]]:
    """(text, link) of every delivered email with a Get Started link, in order of delivery."""
    found = []
    for received in list(mail.received):
        body = received.message.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        link = LINK.search(text)
        if link:
            found.append((text, link.group(0)))
    return found


def delivered_link(mail: SmtpSink, *words: str, within: float = 20.0) -> str:
    """The Get Started link of the first delivered email whose text has all `words`."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for text, link in delivered_links(mail):
            if all(word in text for word in words):
                return link
        time.sleep(0.2)
    raise AssertionError(f"no email with {words}: {[r.message['Subject'] for r in mail.received]}")
