"""The rule-based implementation: the offline parser and planner on the knowledge base."""

from __future__ import annotations

from soundstar.aurora.mapper import MapHints
from soundstar.aurora.rules.parse import parse_rules
from soundstar.aurora.rules.plan import plan_rules
from soundstar.models import Implementation, MusicalParameters, ParsedParameters, StructuralPlan


class RuleBasedBackend:
    """Always configured, never touches the network."""

    name = Implementation.RULE_BASED
    configured = True

    def parse(self, text: str, *, original: str | None = None) -> tuple[ParsedParameters, MapHints]:
        reading = parse_rules(text, original=original)
        hints = MapHints(
            tempo_multiplier=reading.tempo_multiplier,
            tempo_cap=reading.tempo_cap,
            solo=reading.solo,
            mode_hint=reading.mode_hint,
            tonic_hint=reading.tonic_hint,
        )
        return reading.parsed, hints

    def plan(self, params: MusicalParameters) -> StructuralPlan:
        return plan_rules(params)
