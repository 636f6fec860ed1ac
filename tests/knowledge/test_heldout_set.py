"""The held-out labelled prompts (benchmarks/data/heldout_prompts.jsonl) are in the eval
format, are not the dev prompts, and are not copied into the knowledge base."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from soundstar.knowledge import DEFAULT_DATA_DIR

HELDOUT = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "heldout_prompts.jsonl"
DEV = Path("/work/shared/eval/prompts.jsonl")
FIELDS = {
    "genre", "tempo_bpm", "tempo_range", "key", "key_tonic", "time_signature", "moods",
    "instruments", "excluded", "artists", "era", "duration", "structure", "structure_has",
    "energy_min", "energy_max", "danceability_min", "energy_rising",
}  # fmt: skip
"""The fields of `expect` the eval README defines."""


def _items(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_the_set_holds_at_least_300_prompts_with_unique_ids() -> None:
    items = _items(HELDOUT)
    assert len(items) >= 300
    assert len({item["id"] for item in items}) == len(items)


def test_every_label_is_an_eval_field_and_every_inferred_field_is_labelled() -> None:
    for item in _items(HELDOUT):
        assert set(item) <= {"id", "prompt", "expect", "inferred"}, item["id"]
        assert item["expect"] and set(item["expect"]) <= FIELDS, item["id"]
        assert set(item.get("inferred", ())) <= set(item["expect"]), item["id"]


def test_no_prompt_is_a_dev_prompt() -> None:
    if not DEV.exists():
        pytest.skip("no dev set on this machine")
    dev = {item["prompt"].lower() for item in _items(DEV)}
    assert not dev & {item["prompt"].lower() for item in _items(HELDOUT)}


def test_no_prompt_is_copied_into_the_knowledge_base() -> None:
    """A sentence of the set never appears in the data (a one-word prompt is a term, and is)."""
    data = "\n".join(p.read_text(encoding="utf-8").lower() for p in DEFAULT_DATA_DIR.glob("*.yaml"))
    for item in _items(HELDOUT):
        if len(item["prompt"].split()) >= 4:
            assert item["prompt"].lower() not in data, item["id"]
