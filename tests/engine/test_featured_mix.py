"""What the person named is heard: a part whose instrument was asked for by name comes
forward in the mix by its role's featured lift; the rhythm section keeps the style's level."""

from __future__ import annotations

import numpy as np
import pytest

from soundstar.aurora.pipeline import Aurora
from soundstar.engine.composer import compose
from soundstar.engine.composer.arrange import arrange
from soundstar.engine.options import EngineOptions
from soundstar.engine.production import production_for
from soundstar.engine.render import render_score
from soundstar.knowledge import load_knowledge
from soundstar.models import Role


def test_named_instruments_are_featured_and_the_style_s_own_are_not() -> None:
    u = Aurora().understand("a slow piano ballad in D minor", duration_seconds=20.0)
    parts = {p.instrument: p for p in arrange(u.parameters, load_knowledge())}
    assert parts["piano"].featured
    assert not any(p.featured for name, p in parts.items() if name != "piano")
    score = compose(u.parameters, u.plan, seed=0)
    assert [t.instrument for t in score.tracks if t.featured] == ["piano"]


def test_the_rhythm_section_takes_no_lift_and_melodic_roles_do() -> None:
    roles = production_for(()).roles
    assert roles[Role.DRUMS].gain_for(featured=True) == roles[Role.DRUMS].gain_db
    assert roles[Role.BASS].gain_for(featured=True) == roles[Role.BASS].gain_db
    for role in (Role.CHORDS, Role.LEAD, Role.PAD):
        assert roles[role].gain_for(featured=True) > roles[role].gain_db


def _rms_db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12))


@pytest.mark.parametrize("mode", ["ddsp"])
def test_a_featured_part_is_louder_in_the_mix_by_its_lift(mode: str) -> None:
    u = Aurora().understand("a slow piano ballad in D minor", duration_seconds=8.0)
    score = compose(u.parameters, u.plan, seed=0)
    plain = score.model_copy(
        update={"tracks": [t.model_copy(update={"featured": False}) for t in score.tracks]}
    )
    options = EngineOptions(mode=mode)
    featured = render_score(score, sample_rate=22050, seed=0, options=options).stems["piano"]
    unfeatured = render_score(plain, sample_rate=22050, seed=0, options=options).stems["piano"]
    lift = production_for(("pop",)).roles[Role.CHORDS].featured_gain_db
    assert _rms_db(featured) - _rms_db(unfeatured) == pytest.approx(lift, abs=0.5)
