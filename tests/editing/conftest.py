"""A generated track with its project, shared by the editing tests (rendered once)."""

from __future__ import annotations

import pytest

from tests.editing.original_track import Original


@pytest.fixture(scope="package")
def original(tmp_path_factory: pytest.TempPathFactory) -> Original:
    return Original(tmp_path_factory.mktemp("original"))
