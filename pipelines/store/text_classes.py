"""Python's own character sets written as RE2 classes, for Arrow's regex kernels.

Arrow's regexes are RE2, whose `\\s` is ASCII whitespace only; Python's `str.isspace` (and
`re`'s `\\s`) also take the no-break space, the line separators and the rest of Unicode's
spaces. Code that makes in Arrow what Python code would make (the fast CSV reader's blank
cells, the workbook rows' `xml:space`) asks these classes, so the two never disagree.
"""

from __future__ import annotations

import functools
import sys


def char_class(chars: list[str]) -> str:
    """The inside of an RE2 character class matching exactly `chars`."""
    return "".join(f"\\x{{{ord(c):x}}}" for c in chars)


@functools.cache
def python_spaces() -> str:
    """The inside of an RE2 class of what `str.isspace` calls whitespace: found once, on
    first use (a scan of every code point, about 40 ms)."""
    return char_class([chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()])
