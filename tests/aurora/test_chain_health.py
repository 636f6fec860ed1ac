"""The chain remembers a backend that is down: later calls skip it without waiting, until
its retry time, when one call tries it again."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from soundstar.aurora.backends.breaker import BreakerState
from soundstar.aurora.chain import BackendHealth, run_chain
from soundstar.errors import BackendResponseError, BackendUnavailableError, InvalidPromptError
from soundstar.models import Implementation


@dataclass(eq=False)
class Scripted:
    """A backend that fails while `down` and otherwise answers its name; counts its calls."""

    name: Implementation
    down: bool = False
    error: type[Exception] = BackendUnavailableError
    calls: list[str] = field(default_factory=list)
    configured: bool = True

    def answer(self, text: str) -> str:
        self.calls.append(text)
        if self.down:
            raise self.error(f"{self.name.value}: connection refused")
        return self.name.value


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def chain(*backends: Scripted, health: BackendHealth, text: str = "x") -> tuple[str, str | None]:
    answer = run_chain("test", backends, lambda b: b.answer(text), health=health)
    return answer.value, answer.fallback_reason


def test_a_backend_found_down_is_skipped_by_later_calls_until_its_retry_time() -> None:
    clock = Clock()
    health = BackendHealth(retry_s=30.0, clock=clock)
    codex = Scripted(Implementation.CODEX, down=True)
    rules = Scripted(Implementation.RULE_BASED)
    assert chain(codex, rules, health=health)[0] == "rule_based"
    assert len(codex.calls) == 1
    value, reason = chain(codex, rules, health=health)
    assert value == "rule_based" and len(codex.calls) == 1  # not asked again
    assert reason and "connection refused" in reason and "tried again in 30 s" in reason
    assert health.status(codex).state is BreakerState.OPEN
    clock.now += 30.0
    codex.down = False
    assert chain(codex, rules, health=health)[0] == "codex"  # the retry found it back
    assert len(codex.calls) == 2
    assert health.status(codex).state is BreakerState.CLOSED
    assert health.status(codex).last_failure is None


def test_a_retry_that_fails_again_keeps_it_skipped_for_another_period() -> None:
    clock = Clock()
    health = BackendHealth(retry_s=10.0, clock=clock)
    codex = Scripted(Implementation.CODEX, down=True)
    rules = Scripted(Implementation.RULE_BASED)
    chain(codex, rules, health=health)
    clock.now += 10.0
    chain(codex, rules, health=health)
    assert len(codex.calls) == 2
    clock.now += 5.0
    chain(codex, rules, health=health)
    assert len(codex.calls) == 2
    assert health.status(codex).retry_in_s == pytest.approx(5.0)


def test_a_bad_answer_is_not_an_outage_and_the_next_call_asks_again() -> None:
    health = BackendHealth(clock=Clock())
    codex = Scripted(Implementation.CODEX, down=True, error=BackendResponseError)
    rules = Scripted(Implementation.RULE_BASED)
    chain(codex, rules, health=health)
    chain(codex, rules, health=health)
    assert len(codex.calls) == 2
    assert health.status(codex).state is BreakerState.CLOSED


def test_each_backend_object_has_its_own_memory() -> None:
    health = BackendHealth(clock=Clock())
    down = Scripted(Implementation.CODEX, down=True)
    other = Scripted(Implementation.CODEX)
    rules = Scripted(Implementation.RULE_BASED)
    chain(down, rules, health=health)
    assert chain(other, rules, health=health)[0] == "codex"


def test_the_person_s_bad_input_is_raised_and_does_not_mark_the_backend_down() -> None:
    health = BackendHealth(clock=Clock())
    codex = Scripted(Implementation.CODEX, down=True, error=InvalidPromptError)
    with pytest.raises(InvalidPromptError):
        chain(codex, Scripted(Implementation.RULE_BASED), health=health)
    assert health.status(codex).state is BreakerState.CLOSED
    assert health.breaker(codex).acquire()
