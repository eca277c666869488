"""Text from outside made inert before people see it (pure).

Provider strings (service names, error messages), FOCUS file contents, limits file values,
review notes and ``--by`` names end up in terminals and in Markdown (the GitHub step
summary, ``--format markdown``, PR comments). ``terminal`` makes control characters
visible instead of letting them act (ANSI escapes, carriage returns that overwrite a line,
bidi overrides that reorder it); ``markdown`` also escapes everything Markdown or HTML would
act on, so the text renders as itself: no links, images, emphasis, tables cells, headings,
HTML tags or @-mentions.
"""

from __future__ import annotations

import re
import unicodedata

# What Markdown acts on inside a line (our escaped text never starts one): emphasis, code,
# links and images (no "(" after an escaped "]"), table cells, strikethrough; any ASCII
# punctuation may be backslash-escaped in CommonMark. < > & " become entities, since GitHub
# renders raw HTML. Autolinks are broken at their "://" and "www.".
_MARKDOWN_ESCAPED = frozenset("\\`*_[]|~!")
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;"}
# The start of a block construct: a list bullet, heading, quote, setext line or ordered list
# marker; its last character gets a backslash.
_BLOCK_START = re.compile(r"^(?:[-+*#>=]|\d{1,9}[.)])")
_NO_MENTION = "@\u2060"  # a word joiner after @ keeps GitHub from linking or notifying


def _is_control(char: str) -> bool:
    # Cc: C0/C1 controls, DEL; Cf: format controls (bidi overrides, zero-width joiners),
    # except the word joiner ``markdown`` puts after @; Zl/Zp: line and paragraph separators.
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") and char != "\u2060"


def _visible(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal(text: str, *, lines: bool = True) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``); line breaks
    are kept when ``lines`` (our own multi-line output), escaped too otherwise."""
    return "".join(_visible(c) if _is_control(c) and not (lines and c == "\n") else c for c in text)


def markdown(text: str) -> str:
    """``text`` as one line of Markdown that renders as exactly this text (less the spaces
    around it, which Markdown drops anyway), wherever it is put in a line."""
    out = []
    plain = terminal(text, lines=False).strip(" ")
    block = _BLOCK_START.match(plain)
    lead = block.end() - 1 if block else -1  # this character would start a block
    for i, char in enumerate(plain):
        autolink = (char == ":" and plain.startswith("//", i + 1)) or (
            char == "." and plain[max(0, i - 3) : i].lower() == "www"
        )
        if char in _MARKDOWN_ESCAPED or autolink or (i == lead and char not in _ENTITIES):
            out.append("\\" + char)
        elif char in _ENTITIES:
            out.append(_ENTITIES[char])
        elif char == "@":
            out.append(_NO_MENTION)
        else:
            out.append(char)
    return "".join(out)
