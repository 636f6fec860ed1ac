"""The last level of the chain (spec v2 §9.1 level 4): the spec's defaults, never an error."""

from __future__ import annotations

import itertools

from soundstar.aurora.mapper import MapHints
from soundstar.aurora.suggestion import Suggestion
from soundstar.models import (
    ChordProgression,
    EnergyValue,
    Enhancement,
    Implementation,
    MusicalParameters,
    OptionalValueWithConfidence,
    ParsedParameters,
    PlanSection,
    StructuralPlan,
    TempoValue,
    Transition,
    ValueWithConfidence,
    split_key,
)
from soundstar.theory import numeral_to_chord

DEFAULT_PARSED = ParsedParameters(
    genre=ValueWithConfidence(value="pop", confidence=0.0),
    sub_genre=OptionalValueWithConfidence(value=None, confidence=0.0),
    tempo=TempoValue(type="inferred", bpm=120.0, confidence=0.0),
    mood=[ValueWithConfidence(value="neutral", confidence=0.0)],
    instrumentation=[],
    structure=ValueWithConfidence(value="verse-chorus", confidence=0.0),
    key_signature=OptionalValueWithConfidence(value=None, confidence=0.0),
    time_signature=ValueWithConfidence(value="4/4", confidence=0.0),
    energy_level=EnergyValue(value=0.5, confidence=0.0),
    reference_artists=[],
)


class DefaultsBackend:
    name = Implementation.DEFAULTS
    configured = True

    def parse(self, text: str, *, original: str | None = None) -> tuple[ParsedParameters, MapHints]:
        return DEFAULT_PARSED, MapHints()

    def enhance(
        self,
        text: str,
        *,
        level: str = "moderate",
        context: dict[str, object] | None = None,
        original: str | None = None,
    ) -> Enhancement:
        """The prompt unchanged: nothing is added when nothing could be analysed."""
        prompt = original if original is not None else text
        return Enhancement(
            original_prompt=prompt, enhanced_prompt=prompt, additions=[], confidence=0.0
        )

    def suggest(
        self, partial_prompt: str, *, cursor_position: int | None = None, count: int = 3
    ) -> list[Suggestion]:
        return []

    def plan(self, params: MusicalParameters) -> StructuralPlan:
        """Verse-chorus with a I–V–vi–IV (or i–bVI–bIII–bVII) progression in the key."""
        tonic, mode = split_key(params.key)
        numerals = ["i", "bVI", "bIII", "bVII"] if "minor" in mode else ["I", "V", "vi", "IV"]
        chords = [numeral_to_chord(n, params.key) for n in numerals]
        layout = [
            ("intro", 0.1, 0.3),
            ("verse", 0.25, 0.5),
            ("chorus", 0.25, 0.8),
            ("verse 2", 0.15, 0.55),
            ("chorus 2", 0.15, 0.85),
            ("outro", 0.1, 0.3),
        ]
        sections = [
            PlanSection(name=n, duration_ratio=r, energy_level=e, description="default layout")
            for n, r, e in layout
        ]
        transitions = [
            Transition(**{"from": a.name, "to": b.name, "type": "fill"})
            for a, b in itertools.pairwise(sections)
        ]
        return StructuralPlan(
            structure_type="verse-chorus",
            sections=sections,
            transitions=transitions,
            chord_progression=ChordProgression(key=tonic, mode=mode, chords=chords),
        )
