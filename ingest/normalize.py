"""Text normalisation, applied once per document; chunk offsets index into its result."""

from __future__ import annotations

import re
import unicodedata

# Control characters other than newline and tab carry no meaning in prose and break display.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")


def normalize(text: str) -> str:
    """NFC, LF line endings, no stray control characters. Identity on clean UTF-8 text."""
    text = unicodedata.normalize("NFC", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)
