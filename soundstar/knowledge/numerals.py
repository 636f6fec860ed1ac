"""The roman-numeral syntax of the knowledge base's progressions (degrees of the major scale)."""

from __future__ import annotations

import re

_NUMERAL = re.compile(
    r"^(?P<accidental>[b#]?)(?P<roman>VII|VI|IV|V|III|II|I|vii|vi|iv|v|iii|ii|i)"
    r"(?P<suffix>maj7|7|6|9|sus2|sus4|o7|o|ø7|\+|add9)?$"
)
_LOWERCASE_ONLY = frozenset({"o", "ø7"})
_UPPERCASE_ONLY = frozenset({"+"})


def check_numeral(numeral: str) -> str:
    """Return the numeral when it follows the syntax; ValueError naming the problem otherwise."""
    match = _NUMERAL.match(numeral)
    if match is None:
        raise ValueError(
            f"numeral {numeral!r} is not [b|#]I..VII|i..vii[7|maj7|6|9|sus2|sus4|o|o7|ø7|+|add9]"
        )
    suffix = match.group("suffix") or ""
    upper = match.group("roman").isupper()
    if suffix in _LOWERCASE_ONLY and upper:
        raise ValueError(f"numeral {numeral!r}: {suffix!r} goes on a lowercase numeral")
    if suffix in _UPPERCASE_ONLY and not upper:
        raise ValueError(f"numeral {numeral!r}: {suffix!r} goes on an uppercase numeral")
    return numeral
