"""embed_value: one value's slice of the unified embedding, with clear errors."""

from __future__ import annotations

import pytest

from soundstar.encoder.embedding import cosine, embed_value, encode
from soundstar.errors import ParameterError
from soundstar.models import EMBEDDING_SLICES, InstrumentSpec, MusicalParameters, Role


@pytest.mark.parametrize(
    ("kind", "value", "dim"),
    [("genre", "jazz", 128), ("mood", "happy", 128), ("instrumentation", "piano", 256)],
)
def test_dimensions(kind: str, value: str, dim: int) -> None:
    vec = embed_value(kind, value)
    assert len(vec) == dim
    assert embed_value(kind, value) == vec  # deterministic


def test_aliases_meet_and_relatives_are_nearer() -> None:
    assert embed_value("genre", "retrowave") == embed_value("genre", "Synthwave")
    synthwave = embed_value("genre", "synthwave")
    assert cosine(synthwave, embed_value("genre", "synthpop")) > cosine(
        synthwave, embed_value("genre", "bluegrass")
    )
    happy = embed_value("mood", "happy")
    assert cosine(happy, embed_value("mood", "joyful")) > cosine(happy, embed_value("mood", "sad"))


def test_matches_the_slice_of_the_full_embedding() -> None:
    params = MusicalParameters(
        genre="Jazz",
        tempo_bpm=120,
        instrumentation=[InstrumentSpec(name="piano", role=Role.CHORDS)],
    )
    unified = encode(params).unified
    start, end = EMBEDDING_SLICES["genre"]
    assert unified[start:end] == pytest.approx(embed_value("genre", "jazz"), abs=1e-6)
    start, end = EMBEDDING_SLICES["instrumentation"]
    assert unified[start:end] == pytest.approx(embed_value("instrumentation", "piano"), abs=1e-6)


def test_unknown_kind() -> None:
    with pytest.raises(ParameterError) as info:
        embed_value("tempo", "fast")
    assert info.value.field == "kind"


def test_unknown_value_suggests_the_closest() -> None:
    with pytest.raises(ParameterError) as info:
        embed_value("genre", "synthwav")
    assert info.value.field == "value"
    assert "did you mean 'synthwave'" in info.value.message
    with pytest.raises(ParameterError):
        embed_value("mood", "")
