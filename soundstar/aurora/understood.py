"""Whether a prompt says anything musical at all: a prompt that does not is refused, not
silently turned into a default Pop track."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import yaml

from soundstar.errors import InvalidPromptError

_DATA = Path(__file__).parent / "data"
EXAMPLES = (
    "a calm piano piece in D minor",
    "an upbeat synthwave track at 110 bpm with pulsing bass",
)
NOTHING_UNDERSTOOD = (
    "nothing musical understood in the prompt; describe the music, for example "
    f"'{EXAMPLES[0]}' or '{EXAMPLES[1]}'"
)


@lru_cache(maxsize=1)
def _music_words() -> frozenset[str]:
    data = yaml.safe_load((_DATA / "music_words.yaml").read_text(encoding="utf-8"))
    return frozenset(str(w).lower() for w in data["words"])


def says_music(tokens: Iterable[str]) -> bool:
    """Whether any token is a plain word for music ("song", "track", "beat")."""
    words = _music_words()
    return any(token in words for token in tokens)


def refuse_nothing_understood() -> InvalidPromptError:
    """The error for a prompt from which nothing musical was read (INVALID_PROMPT)."""
    return InvalidPromptError(NOTHING_UNDERSTOOD, field="prompt")
