"""Aurora end to end: prompt → preprocessed text → parsed → parameters → plan.

The one object the rest of Soundstar talks to for understanding; every module
call goes through the fallback chain and reports the implementation used.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from soundstar.aurora.backends.defaults import DefaultsBackend
from soundstar.aurora.backends.rules import RuleBasedBackend
from soundstar.aurora.chain import ChainAnswer, run_chain
from soundstar.aurora.mapper import MapHints, Mapped, map_parameters
from soundstar.aurora.preprocess import Preprocessed, preprocess
from soundstar.models import (
    Implementation,
    MusicalParameters,
    Notice,
    ParsedParameters,
    StructuralPlan,
)

_LEVEL = [
    Implementation.CODEX,
    Implementation.LOCAL_LLM,
    Implementation.RULE_BASED,
    Implementation.DEFAULTS,
]


@dataclass
class Understanding:
    preprocessed: Preprocessed
    parsed: ParsedParameters
    parameters: MusicalParameters
    plan: StructuralPlan
    implementations: dict[str, Implementation]
    implementation_used: Implementation
    fallback_used: bool
    fallback_reason: str | None
    notices: list[Notice] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)


class Aurora:
    """The semantic layer over an ordered list of backends (first = preferred)."""

    def __init__(self, backends: Sequence[Any] | None = None) -> None:
        self.backends: list[Any] = (
            list(backends) if backends is not None else [RuleBasedBackend(), DefaultsBackend()]
        )

    @property
    def llm_configured(self) -> bool:
        return any(
            b.configured and b.name in (Implementation.CODEX, Implementation.LOCAL_LLM)
            for b in self.backends
        )

    def parse(
        self, text: str, *, original: str | None = None
    ) -> ChainAnswer[tuple[ParsedParameters, MapHints]]:
        return run_chain(
            "semantic_parser", self.backends, lambda b: b.parse(text, original=original)
        )

    def plan(self, params: MusicalParameters) -> ChainAnswer[StructuralPlan]:
        return run_chain("structural_planner", self.backends, lambda b: b.plan(params))

    def understand(
        self, prompt: str, *, duration_seconds: float | None = None, check_length: bool = True
    ) -> Understanding:
        timings: dict[str, float] = {}
        start = time.perf_counter()
        pre = preprocess(prompt, check_length=check_length)
        timings["preprocess"] = (time.perf_counter() - start) * 1000

        start = time.perf_counter()
        parsed_answer = self.parse(pre.text, original=pre.original)
        parsed, hints = parsed_answer.value
        timings["parse"] = (time.perf_counter() - start) * 1000

        start = time.perf_counter()
        mapped: Mapped = map_parameters(parsed, hints=hints, duration_seconds=duration_seconds)
        timings["map"] = (time.perf_counter() - start) * 1000

        start = time.perf_counter()
        plan_answer = self.plan(mapped.parameters)
        timings["plan"] = (time.perf_counter() - start) * 1000

        answers: dict[str, ChainAnswer[Any]] = {
            "semantic_parser": parsed_answer,
            "structural_planner": plan_answer,
        }
        implementations = {module: a.implementation for module, a in answers.items()}
        used = max(implementations.values(), key=_LEVEL.index)
        reasons = [a.fallback_reason for a in answers.values() if a.fallback_reason]
        notices: list[Notice] = []
        for answer in answers.values():
            notice = answer.notice()
            if notice is not None and notice not in notices:
                notices.append(notice)
        if not self.llm_configured and used == Implementation.RULE_BASED:
            notices.append(
                Notice(
                    level="info",
                    message="Understood offline by the built-in music knowledge base (no LLM configured).",
                )
            )
        for correction in pre.corrections:
            notices.append(
                Notice(level="info", message=f"Read {correction[0]!r} as {correction[1]!r}.")
            )
        notices.extend(Notice(level="info", message=text) for text in mapped.notices)
        return Understanding(
            preprocessed=pre,
            parsed=parsed,
            parameters=mapped.parameters,
            plan=plan_answer.value,
            implementations=implementations,
            implementation_used=used,
            fallback_used=any(a.fallback_used for a in answers.values()),
            fallback_reason="; ".join(reasons) or None,
            notices=notices,
            timings_ms=timings,
        )
