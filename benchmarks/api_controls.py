"""What `controls` add to a generate request before it is queued (rule-based Aurora).

The service sets a request's controls (soundstar.controls.controlled) before the job is
stored, so a bad one is refused with nothing queued; this times that step for each prompt
of shared/eval/prompts.jsonl: reading the prompt alone (the baseline), parameter
controls over the prompt's parameters, the same plus a section control (a plan is made),
and parameter controls over parameters sent whole (the page's case: nothing is read).
Run: .venv/bin/python -m benchmarks.api_controls  →  benchmarks/results/api_controls.json
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from benchmarks.common import eval_dir, read_jsonl, write_results
from soundstar.aurora.cache import MemoryCache
from soundstar.aurora.pipeline import Aurora
from soundstar.controls import controlled, overrides_from_json
from soundstar.errors import SoundstarError

ROUNDS = 3
DURATION_S = 30.0
PARAMETER_CONTROLS = {"tempo_bpm": 100, "key": "D minor", "time_signature": "3/4", "valence": 0.3}
SECTION_CONTROLS = {**PARAMETER_CONTROLS, "sections.1.energy": 0.2}


def _summary(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), 3),
        "p90_ms": round(ordered[int(0.90 * (len(ordered) - 1))], 3),
        "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))], 3),
        "max_ms": round(ordered[-1], 3),
    }


def _timed(work: Callable[[str, Any], object], prompt: str, params: Any) -> float:
    start = time.perf_counter()
    work(prompt, params)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    aurora = Aurora(cache=MemoryCache(max_entries=0))  # every reading done afresh
    aurora.warm_up()
    prompts = []
    for item in read_jsonl(eval_dir() / "prompts.jsonl"):
        try:
            parameters = aurora.understand(item["prompt"], duration_seconds=DURATION_S).parameters
        except SoundstarError:  # a prompt the service refuses is refused before controls
            continue
        prompts.append((item["prompt"], parameters))
    by_controls = overrides_from_json(PARAMETER_CONTROLS, "controls")
    with_section = overrides_from_json(SECTION_CONTROLS, "controls")
    cases: dict[str, Callable[[str, Any], object]] = {
        "read_prompt_only": lambda p, _: aurora.understand(p, duration_seconds=DURATION_S),
        "parameter_controls": lambda p, _: controlled(
            aurora, p, by_controls, duration_seconds=DURATION_S
        ),
        "parameter_and_section_controls": lambda p, _: controlled(
            aurora, p, with_section, duration_seconds=DURATION_S
        ),
        "controls_over_sent_parameters": lambda p, params: controlled(
            aurora, p, by_controls, parameters=params, duration_seconds=DURATION_S
        ),
    }
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for round_ in range(ROUNDS + 1):  # the first round warms every case; it is not counted
        for prompt, params in prompts:
            for name, case in cases.items():
                elapsed = _timed(case, prompt, params)
                if round_:
                    samples[name].append(elapsed)
    summary = {name: _summary(values) for name, values in samples.items()}
    base = summary["read_prompt_only"]["p50_ms"]
    path = write_results(
        "api_controls",
        {
            "prompts": len(prompts),
            "rounds": ROUNDS,
            "controls": SECTION_CONTROLS,
            "latency": summary,
            "p50_over_reading_alone": {
                name: round(s["p50_ms"] / base, 3) if base else None for name, s in summary.items()
            },
        },
    )
    for name, s in summary.items():
        print(f"{name:34s} p50 {s['p50_ms']:8.3f} ms  p99 {s['p99_ms']:8.3f} ms")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
