"""Indexes derived from the knowledge base are compiled beside it: read back on the next
start, built again when the code that derives them changes, and equal to a fresh build."""

from __future__ import annotations

from pathlib import Path

import pytest

from soundstar.aurora import preprocess
from soundstar.aurora.rules import matcher
from soundstar.knowledge import cache as compiled
from soundstar.knowledge.loader import load_derived


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv(compiled.CACHE_DIR_ENV, str(directory))
    return directory


def test_a_derived_value_is_read_back_until_its_code_changes(
    cache_dir: Path, tmp_path: Path
) -> None:
    code = tmp_path / "derive.py"
    code.write_text("VERSION = 1\n", encoding="utf-8")
    built: list[int] = []

    def build() -> tuple[int, ...]:
        built.append(1)
        return (1, 2, 3)

    assert load_derived("test-index", build, tuple, code=code) == (1, 2, 3)
    assert load_derived("test-index", build, tuple, code=code) == (1, 2, 3)
    assert len(built) == 1 and any(cache_dir.glob("test-index-*"))
    code.write_text("VERSION = 2\n", encoding="utf-8")
    load_derived("test-index", build, tuple, code=code)
    assert len(built) == 2


def test_the_compiled_indexes_equal_fresh_builds(cache_dir: Path) -> None:
    for cached, fresh in ((matcher._index, matcher._build_index),
                          (preprocess._vocabulary, preprocess._build_vocabulary)):  # fmt: skip
        cached.cache_clear()
        first = cached()
        cached.cache_clear()
        assert cached() == first == fresh()
        cached.cache_clear()
