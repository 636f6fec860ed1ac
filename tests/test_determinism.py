"""The same prompt and seed give the same parameters, plan and score in every process:
nothing may follow Python's per-process hash seed (a set's order of strings)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

PROMPTS = [
    "a tribal and adventurous piece of world music",
    "an adventurous and tribal piece of world music",
    "a jazz trio with piano, bass and drums playing a ballad",
    "lo-fi hip hop with a string quartet, rainy and nostalgic",
    "A peaceful celtic folk melody on tin whistle and harp in 6/8",
    "drum and bass track, 174 bpm, rolling bassline, liquid vibe",
    "a happy but melancholic waltz for accordion and strings",
    "epic orchestral trailer music with choir and taiko drums, dark and heroic",
]

_SCRIPT = """
import hashlib, json, sys
from soundstar.aurora.pipeline import Aurora
from soundstar.engine.composer import compose
aurora = Aurora()
out = []
for seed, prompt in enumerate(json.loads(sys.argv[1])):
    u = aurora.understand(prompt, duration_seconds=20.0, check_length=False)
    score = compose(u.parameters, u.plan, seed=seed)
    text = u.parameters.model_dump_json() + u.plan.model_dump_json() + score.model_dump_json()
    out.append(hashlib.sha256(text.encode()).hexdigest())
print(json.dumps(out))
"""


def _digests(hash_seed: str) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, json.dumps(PROMPTS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_parameters_plan_and_score_do_not_depend_on_the_hash_seed() -> None:
    first, second, third = _digests("1"), _digests("2"), _digests("3")
    differing = [
        p for p, a, b, c in zip(PROMPTS, first, second, third, strict=True) if not a == b == c
    ]
    assert not differing, f"differ between processes: {differing}"
