"""Latency of each Aurora module with the rule-based implementation, and of cache hits.

Prompts come from shared/eval/prompts.jsonl; suggest runs on prefixes of them
every few characters, as typing would. Goals (issue 3): parse p50 < 5 ms,
suggest p99 < 20 ms, the whole Aurora stage < 50 ms. Writes
benchmarks/results/aurora_latency.json.
Run: .venv/bin/python -m benchmarks.aurora_latency
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from benchmarks.common import eval_dir, read_jsonl, write_results
from soundstar.aurora.backends.rules import RuleBasedBackend
from soundstar.aurora.cache import MemoryCache, RedisCache
from soundstar.aurora.enhancer import LEVELS, enhance_rules
from soundstar.aurora.mapper import map_parameters
from soundstar.aurora.pipeline import Aurora
from soundstar.aurora.preprocess import Preprocessed, preprocess
from soundstar.aurora.rules.plan import plan_rules
from soundstar.aurora.suggester import _correction, infer_context, suggest_rules
from soundstar.encoder.embedding import encode

ROUNDS = 5
SUGGEST_STEP = 3
REDIS_URL = "redis://127.0.0.1:6379/0"
GOALS = {"parse_p50_ms": 5.0, "suggest_p99_ms": 20.0, "understand_p50_ms": 50.0}


def _summary(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), 3),
        "p90_ms": round(ordered[int(0.90 * (len(ordered) - 1))], 3),
        "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))], 3),
        "max_ms": round(ordered[-1], 3),
    }


def _enhance_one(pre: Preprocessed, *, level: str) -> object:
    return enhance_rules(pre.text, level=level, original=pre.original)


def _time(call: Callable[[Any], object], items: Iterable[Any], rounds: int = ROUNDS) -> list[float]:
    items = list(items)
    out: list[float] = []
    for _ in range(rounds):
        for item in items:
            start = time.perf_counter()
            call(item)
            out.append((time.perf_counter() - start) * 1000)
    return out


def _partials(prompts: list[str]) -> list[str]:
    return [p[:end] for p in prompts for end in range(1, len(p) + 1, SUGGEST_STEP)]


def _parallel_vs_sequential(prompts: list[str]) -> dict[str, Any]:
    """Spec v2 §10.2 offline: enhancement and the quick parse, one after the other or in two threads."""
    aurora = Aurora(cache=MemoryCache(max_entries=0))
    pres = [preprocess(p, check_length=False) for p in prompts]
    pool = ThreadPoolExecutor(max_workers=2)

    def sequential(pre: Any) -> None:
        aurora._enhance_pre(pre, "moderate", None)
        aurora.parse(pre.text, original=pre.original)

    def parallel(pre: Any) -> None:
        pending = pool.submit(aurora._enhance_pre, pre, "moderate", None)
        aurora.parse(pre.text, original=pre.original)
        pending.result()

    for pre in pres:  # warm every lazy table on both paths first
        sequential(pre)
        parallel(pre)
    seq_ms: list[float] = []
    par_ms: list[float] = []
    for _ in range(ROUNDS * 2):  # interleaved, so drift in machine load hits both alike
        seq_ms += _time(sequential, pres, rounds=1)
        par_ms += _time(parallel, pres, rounds=1)
    pool.shutdown()
    seq, par = _summary(seq_ms), _summary(par_ms)
    return {
        "sequential": seq,
        "parallel_threads": par,
        "faster_p50": "sequential" if seq["p50_ms"] <= par["p50_ms"] else "parallel_threads",
        "used_offline": "sequential" if not aurora.llm_configured else "parallel_threads",
    }


def _cache_hits(prompts: list[str], cache: Any) -> dict[str, Any]:
    aurora = Aurora(cache=cache)
    for p in prompts:
        aurora.understand(p, check_length=False, enhance=True)
        aurora.enhance(p, level="moderate") if 10 <= len(p.strip()) <= 500 else None
    long_enough = [p for p in prompts if 10 <= len(p.strip()) <= 500]
    return {
        "understand_enhanced": _summary(
            _time(lambda p: aurora.understand(p, check_length=False, enhance=True), prompts)
        ),
        "enhance": _summary(_time(lambda p: aurora.enhance(p), long_enough)),
        "stats": cache.stats(),
    }


def main() -> None:
    prompts = [item["prompt"] for item in read_jsonl(eval_dir() / "prompts.jsonl")]
    rules = RuleBasedBackend()
    Aurora().warm_up()
    pres = [preprocess(p, check_length=False) for p in prompts]
    parsed = [rules.parse(pre.text, original=pre.original) for pre in pres]
    mapped = [map_parameters(p, hints=h) for p, h in parsed]
    plans = [plan_rules(m.parameters) for m in mapped]
    partials = _partials(prompts)

    results: dict[str, Any] = {
        "preprocess": _summary(_time(lambda p: preprocess(p, check_length=False), prompts)),
        "parse": _summary(_time(lambda pre: rules.parse(pre.text, original=pre.original), pres)),
        "map": _summary(_time(lambda ph: map_parameters(ph[0], hints=ph[1]), parsed)),
        "plan": _summary(_time(lambda m: plan_rules(m.parameters), mapped)),
        "embed": _summary(
            _time(lambda mp: encode(mp[0].parameters, mp[1]), list(zip(mapped, plans, strict=True)))
        ),
    }
    for level in LEVELS:
        results[f"enhance_{level}"] = _summary(_time(partial(_enhance_one, level=level), pres))
    infer_context.cache_clear()  # cold: every partial parsed afresh
    _correction.cache_clear()
    results["suggest"] = _summary(_time(lambda p: suggest_rules(p, count=3), partials, rounds=1))
    infer_context.cache_clear()
    uncached = Aurora(cache=MemoryCache(max_entries=0))
    results["suggest_api_uncached"] = _summary(
        _time(lambda p: uncached.suggest(p, count=3), partials, rounds=1)
    )
    results["understand"] = _summary(
        _time(lambda p: uncached.understand(p, check_length=False), prompts)
    )
    results["understand_enhanced"] = _summary(
        _time(lambda p: uncached.understand(p, check_length=False, enhance=True), prompts)
    )
    results["enhance_and_quick_parse"] = _parallel_vs_sequential(prompts)

    cache_hits: dict[str, Any] = {"memory": _cache_hits(prompts, MemoryCache())}
    redis = RedisCache(REDIS_URL, prefix=f"soundstar-bench-{uuid.uuid4().hex[:8]}")
    if redis.ping():
        try:
            cache_hits["redis"] = _cache_hits(prompts, redis)
        finally:
            redis.clear()
            redis.close()
    else:
        cache_hits["redis"] = {"skipped": f"no Redis at {REDIS_URL}"}
    results["cache_hit"] = cache_hits

    goals = {
        "parse_p50_ms": results["parse"]["p50_ms"],
        "suggest_p99_ms": results["suggest"]["p99_ms"],
        "understand_p50_ms": results["understand_enhanced"]["p50_ms"],
    }
    met = {name: goals[name] < limit for name, limit in GOALS.items()}
    path = write_results(
        "aurora_latency",
        {
            "implementation": "rule_based",
            "prompts": len(prompts),
            "suggest_partials": len(partials),
            "rounds": ROUNDS,
            "goals_ms": GOALS,
            "measured_ms": goals,
            "goals_met": met,
            "modules": results,
        },
    )
    for name, summary in results.items():
        if "p50_ms" in summary:
            print(f"{name:24s} p50 {summary['p50_ms']:7.3f} ms  p99 {summary['p99_ms']:7.3f} ms")
    both = results["enhance_and_quick_parse"]
    print(
        f"enhance+quick parse: sequential p50 {both['sequential']['p50_ms']} ms, "
        f"threads p50 {both['parallel_threads']['p50_ms']} ms (faster: {both['faster_p50']})"
    )
    for store, data in cache_hits.items():
        if "understand_enhanced" in data:
            print(
                f"cache hit ({store}): understand p50 {data['understand_enhanced']['p50_ms']} ms, "
                f"enhance p50 {data['enhance']['p50_ms']} ms"
            )
    print("goals met:", met)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
