"""Fingerprints of composed scores, to show a refactor of the composer changes no music.

For every prompt of shared/eval/prompts.jsonl and the 100 MusicBench captions (parsed by
the rules, planned, composed with seed = the prompt's index in its set, as
benchmarks.adherence does) and for 300 generated prompts naming a style, a tempo, a
meter and two to five instruments from the knowledge base (percussion and kit pieces
over-represented, as that is where the arrangement rules are densest): a SHA-256 of the
parameters and plan (what the composer was given) and of the Score's JSON (what it
wrote). `record` writes them to a file; `check` compares a run with that file and names
each prompt whose input or score differs.
Run: .venv/bin/python -m benchmarks.support.score_hashes record|check [--file PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from pathlib import Path

from benchmarks.common import eval_dir, read_jsonl
from soundstar.aurora.pipeline import Aurora
from soundstar.engine.composer import compose
from soundstar.knowledge import KnowledgeBase, load_knowledge

DEFAULT_FILE = Path(__file__).resolve().parent / "score_hashes.json"
GENERATED = 300
_METERS = ("4/4", "3/4", "6/8", "2/4", "5/4", "7/8", "12/8")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def generated_prompts(kb: KnowledgeBase, count: int = GENERATED) -> list[str]:
    """`count` prompts, the same every run: a style, a tempo, sometimes a meter, and a lineup
    named by the instruments' own names, with "only" now and then."""
    rng = random.Random(20261207)
    genres = sorted(g.name.lower() for g in kb.genres.values())
    instruments = sorted(kb.instruments.values(), key=lambda i: i.id)
    percussive = [i for i in instruments if i.drum or i.role in ("percussion", "drums")]
    prompts = []
    for _ in range(count):
        lineup = rng.sample(percussive, rng.randint(1, 3)) + rng.sample(
            instruments, rng.randint(0, 3)
        )
        names = list(dict.fromkeys(i.name.lower() for i in lineup))
        named = ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1]
        meter = f" in {rng.choice(_METERS)}" if rng.random() < 0.3 else ""
        only = "only " if rng.random() < 0.2 else "with "
        bpm = rng.randrange(50, 200)
        prompts.append(f"a {rng.choice(genres)} piece at {bpm} bpm{meter} {only}{named}")
    return prompts


def fingerprints() -> dict[str, dict[str, str]]:
    """{set/index: {"input": digest of parameters and plan, "score": digest of the Score}}."""
    data = eval_dir()
    sets = {
        "dev": [r["prompt"] for r in read_jsonl(data / "prompts.jsonl")],
        "musicbench": [
            r["caption"] for r in read_jsonl(data / "external" / "musicbench_test100.jsonl")
        ],
        "generated": generated_prompts(load_knowledge()),
    }
    aurora = Aurora()
    out: dict[str, dict[str, str]] = {}
    for name, prompts in sets.items():
        for index, prompt in enumerate(prompts):
            u = aurora.understand(prompt, duration_seconds=30.0, check_length=False)
            given = u.parameters.model_dump_json() + u.plan.model_dump_json()
            score = compose(u.parameters, u.plan, seed=index)
            out[f"{name}/{index:03d}"] = {
                "input": _digest(given),
                "score": _digest(score.model_dump_json(exclude={"drum_kit", "sidechain"})),
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=("record", "check"))
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    args = parser.parse_args()
    now = fingerprints()
    if args.action == "record":
        args.file.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {len(now)} fingerprints to {args.file}")
        return
    before: dict[str, dict[str, str]] = json.loads(args.file.read_text(encoding="utf-8"))
    inputs = sorted(k for k in now if before.get(k, {}).get("input") != now[k]["input"])
    scores = sorted(
        k for k in now if k not in inputs and before.get(k, {}).get("score") != now[k]["score"]
    )
    print(f"{len(now)} prompts; input changed: {len(inputs)}; score changed: {len(scores)}")
    for key in inputs:
        print(f"  input  {key}")
    for key in scores:
        print(f"  score  {key}")


if __name__ == "__main__":
    main()
