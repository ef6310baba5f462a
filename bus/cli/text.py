"""Text from outside (message properties, headers, unverified fields) made safe to print on a terminal."""

from __future__ import annotations

import unicodedata


def printable(value: object) -> str:
    """``value`` as text in which no control character, escape sequence or invisible format character
    survives: each is shown as ``\\xNN``, ``\\uNNNN`` or ``\\UNNNNNNNN``, and a backslash as ``\\\\``, so
    what is printed is unambiguous and inert. A byte that is not UTF-8 shows as ``\\udcNN``."""
    if isinstance(value, bytes | bytearray | memoryview):
        text = bytes(value).decode("utf-8", errors="surrogateescape")  # bad bytes: \udcNN
    else:
        text = str(value)
    out: list[str] = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif unicodedata.category(char)[0] in ("C", "Z") and char != " ":
            code = ord(char)
            out.append(
                f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
            )
        else:
            out.append(char)
    return "".join(out)
