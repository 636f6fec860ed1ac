"""The rule-based implementation: the offline parser, planner, enhancer and suggester."""

from __future__ import annotations

from soundstar.aurora.mapper import MapHints
from soundstar.aurora.rules.parse import parse_rules
from soundstar.aurora.rules.plan import plan_rules
from soundstar.aurora.suggestion import Suggestion
from soundstar.aurora.understood import refuse_nothing_understood
from soundstar.models import (
    Enhancement,
    Implementation,
    MusicalParameters,
    ParsedParameters,
    StructuralPlan,
)


class RuleBasedBackend:
    """Always configured, never touches the network."""

    name = Implementation.RULE_BASED
    configured = True

    def parse(self, text: str, *, original: str | None = None) -> tuple[ParsedParameters, MapHints]:
        """The offline reading; a prompt with nothing musical in it is refused (INVALID_PROMPT)."""
        reading = parse_rules(text, original=original)
        if not reading.understood:
            raise refuse_nothing_understood()
        hints = MapHints(
            tempo_multiplier=reading.tempo_multiplier,
            tempo_cap=reading.tempo_cap,
            mode_hint=reading.mode_hint,
            tonic_hint=reading.tonic_hint,
            ensemble_size=reading.ensemble_size,
        )
        return reading.parsed, hints

    def plan(self, params: MusicalParameters) -> StructuralPlan:
        return plan_rules(params)

    def enhance(
        self,
        text: str,
        *,
        level: str = "moderate",
        context: dict[str, object] | None = None,
        original: str | None = None,
    ) -> Enhancement:
        from soundstar.aurora.enhancer import enhance_rules  # not loaded to parse or plan

        return enhance_rules(text, level=level, context=context, original=original)

    def suggest(
        self, partial_prompt: str, *, cursor_position: int | None = None, count: int = 3
    ) -> list[Suggestion]:
        from soundstar.aurora.suggester import suggest_rules  # not loaded to parse or plan

        return suggest_rules(partial_prompt, cursor_position=cursor_position, count=count)
