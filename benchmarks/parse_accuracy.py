"""Parse accuracy on the labelled prompts, the MusicBench captions and the MusicCaps aspects.

Two labelled sets: the dev prompts (shared/eval/prompts.jsonl) and the held-out prompts written
in this repository (benchmarks/data/heldout_prompts.jsonl), both scored per the eval README, with
each field counted as stated in the prompt (explicit) or left for the reader to infer.
Writes benchmarks/results/parse_accuracy.json.
Run: .venv/bin/python -m benchmarks.parse_accuracy
"""

from __future__ import annotations

import re
import statistics
import time
from collections import defaultdict
from typing import Any

from benchmarks.common import ROOT, eval_dir, read_jsonl, write_results
from soundstar.audio.analysis import keys_equal
from soundstar.aurora.pipeline import Aurora, Understanding
from soundstar.aurora.rules.matcher import tokenize
from soundstar.knowledge import KnowledgeBase, load_knowledge
from soundstar.models import PROMPT_MAX_CHARS
from soundstar.theory import pitch_class

TEMPO_BINS = (40, 60, 70, 90, 110, 140, 160, 210)
HELDOUT = ROOT / "benchmarks" / "data" / "heldout_prompts.jsonl"
INFERRED_FIELDS = frozenset(
    {"tempo_range", "energy_min", "energy_max", "danceability_min", "energy_rising"}
)
"""Fields that no prompt states outright; any other field is explicit unless a prompt's own
`inferred` list names it (a genre read from a scene, a mood from an occasion)."""
FAMILY_WORDS = frozenset(
    {"strings", "brass", "woodwinds", "percussion", "drums", "synthesizer", "bass", "keys",
     "guitar", "guitars"}
)  # fmt: skip
"""Words that name a family of instruments: any member meets them."""


def _norm(text: str) -> str:
    return text.lower().replace("-", " ").strip()


def _genre_ok(kb: KnowledgeBase, u: Understanding, accepted: list[str]) -> bool:
    names = {_norm(n) for n in (u.parameters.genre, u.parameters.sub_genre) if n}
    ids = set()
    for n in list(names):
        g = kb.find_genre(n)
        if g is not None:
            ids.add(g.id)
    for want in accepted:
        if _norm(want) in names:
            return True
        g = kb.find_genre(want)
        if g is not None and g.id in ids:
            return True
    return False


def _instrument_hits(kb: KnowledgeBase, u: Understanding, wanted: list[str]) -> tuple[int, int]:
    have = {i.name for i in u.parameters.instrumentation}
    families = {kb.instruments[i].family for i in have if i in kb.instruments}
    # A kind of the wanted instrument is the wanted instrument (distorted guitar: an electric guitar).
    have |= {
        parent
        for i in have
        if i in kb.instruments and (parent := kb.instruments[i].variant_of) is not None
    }
    hits = 0
    for want in wanted:
        inst = kb.find_instrument(want)
        generic = kb.generic_instrument(want)
        if (
            (inst is not None and inst.id in have)
            # a generic word ("sax", "bass") is met by any kind the style may play for it
            or (generic is not None and bool(set(kb.kinds(generic)) & have))
            or (
                _norm(want) in FAMILY_WORDS
                and (
                    _norm(want).rstrip("s") in {f.rstrip("s") for f in families}
                    or (_norm(want) == "synthesizer" and "synth" in families)
                )
            )
            or (
                inst is not None
                and inst.family in families
                and _norm(want) in (inst.family, inst.family + "s")
            )
        ):
            hits += 1
    return hits, len(wanted)


def score_prompt(kb: KnowledgeBase, u: Understanding, expect: dict[str, Any]) -> dict[str, float]:
    p = u.parameters
    out: dict[str, float] = {}
    if "genre" in expect:
        out["genre"] = float(_genre_ok(kb, u, expect["genre"]))
    if "tempo_bpm" in expect:
        out["tempo_bpm"] = float(abs(p.tempo_bpm - expect["tempo_bpm"]) <= 1)
    if "tempo_range" in expect:
        lo, hi = expect["tempo_range"]
        out["tempo_range"] = float(lo <= p.tempo_bpm <= hi)
    if "key" in expect:
        out["key"] = float(keys_equal(p.key, expect["key"]))
    if "key_tonic" in expect:
        out["key_tonic"] = float(pitch_class(p.tonic) == pitch_class(expect["key_tonic"]))
    if "time_signature" in expect:
        out["time_signature"] = float(p.time_signature == expect["time_signature"])
    if "moods" in expect:
        have = {_norm(m) for m in p.mood}
        found = sum(
            1
            for m in expect["moods"]
            if ((mood := kb.find_mood(m)) is not None and _norm(mood.id) in have)
            or _norm(m) in have
        )
        out["moods"] = found / len(expect["moods"])
    if "instruments" in expect:
        hits, total = _instrument_hits(kb, u, expect["instruments"])
        out["instruments"] = hits / total
    if "excluded" in expect:
        present = (
            {i.name for i in p.instrumentation}
            | {kb.instruments[i.name].family for i in p.instrumentation if i.name in kb.instruments}
            | {i.role.value for i in p.instrumentation}
        )
        out["excluded"] = float(
            not any(
                _norm(x).rstrip("s") in {q.rstrip("s") for q in present} for x in expect["excluded"]
            )
        )
    if "artists" in expect:
        have = {_norm(a) for a in p.reference_artists}
        out["artists"] = sum(1 for a in expect["artists"] if _norm(a) in have) / len(
            expect["artists"]
        )
    if "era" in expect:
        out["era"] = float(p.era == expect["era"])
    if "duration" in expect:
        out["duration"] = float(abs(p.duration_seconds - expect["duration"]) < 0.5)
    if "structure" in expect:
        out["structure"] = float(
            _norm(expect["structure"]) in {_norm(p.structure), _norm(u.plan.structure_type)}
            or (kb.find_structure(expect["structure"]) or object())
            == kb.find_structure(p.structure)
        )
    if "structure_has" in expect:
        names = {_norm(s.name).rstrip("0123456789 ") for s in u.plan.sections}
        out["structure_has"] = sum(1 for s in expect["structure_has"] if _norm(s) in names) / len(
            expect["structure_has"]
        )
    if "energy_min" in expect:
        out["energy_min"] = float(p.energy_level >= expect["energy_min"])
    if "energy_max" in expect:
        out["energy_max"] = float(p.energy_level <= expect["energy_max"])
    if "danceability_min" in expect:
        out["danceability_min"] = float(p.danceability >= expect["danceability_min"])
    if "energy_rising" in expect:
        out["energy_rising"] = float(
            u.plan.sections[-1].energy_level > u.plan.sections[0].energy_level
        )
    return out


def _musiccaps(kb: KnowledgeBase, aurora: Aurora, data: Any) -> dict[str, Any]:
    """Never fail on real descriptions; how fast; how many named aspects are recovered.

    An aspect counts when the knowledge base knows it as a genre, mood or instrument;
    it is recovered when the parsed parameters hold that genre, mood or instrument (a generic
    instrument word: any kind of it). Most aspects are the annotator's tags, not words of the
    caption ("emotional" beside a caption that never says so), so the aspects the caption
    itself states are also counted apart: those are what reading the caption can recover.
    """
    latencies: list[float] = []
    fallbacks = 0
    known = recovered = stated = stated_recovered = 0
    for item in read_jsonl(data / "external" / "musiccaps_captions.jsonl"):
        start = time.perf_counter()
        u = aurora.understand(item["caption"], check_length=False)
        latencies.append((time.perf_counter() - start) * 1000)
        fallbacks += u.implementation_used.value != "rule_based"
        p = u.parameters
        genres = {g.id for g in (kb.find_genre(p.genre), kb.find_genre(p.sub_genre or "")) if g}
        moods = set(p.mood)
        instruments = {i.name for i in p.instrumentation}
        caption = _spaced(item["caption"])
        for aspect in item.get("aspects", []):
            genre, mood, inst = (
                kb.find_genre(aspect),
                kb.find_mood(aspect),
                kb.find_instrument(aspect),
            )
            if not (genre or mood or inst):
                continue
            generic = kb.generic_instrument(aspect)
            found = bool(
                (genre and genre.id in genres)
                or (mood and mood.id in moods)
                or (inst and inst.id in instruments)
                or (generic and set(kb.kinds(generic)) & instruments)
            )
            known += 1
            recovered += found
            if _spaced(aspect) in caption:
                stated += 1
                stated_recovered += found
    ordered = sorted(latencies)
    return {
        "n": len(latencies),
        "failed_to_rule_based_or_defaults": fallbacks,
        "latency_ms": {
            "median": round(statistics.median(ordered), 2),
            "p99": round(ordered[int(0.99 * len(ordered)) - 1], 2),
            "total_s": round(sum(ordered) / 1000, 1),
        },
        "aspects_known_to_kb": known,
        "aspects_recovered": round(recovered / known, 3) if known else None,
        "aspects_stated_in_caption": stated,
        "stated_aspects_recovered": round(stated_recovered / stated, 3) if stated else None,
    }


def _spaced(text: str) -> str:
    """Lowercase words with single spaces around, for finding a phrase as whole words."""
    return f" {' '.join(word for word, _ in tokenize(text))} "


# How the gold captions state a number of beats per minute; the others give an Italian tempo word,
# which MusicBench derived from the BPM with its own table (the parser uses the usual metronome ranges).
_STATED_BPM = re.compile(r"\d+(?:\.\d+)? beats per minute|\bbpm is \d+", re.IGNORECASE)


def tempo_bin(bpm: float) -> int:
    return sum(1 for edge in TEMPO_BINS if bpm >= edge)


def labelled_set(kb: KnowledgeBase, aurora: Aurora, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-field means over a labelled set, split into explicit and inferred fields, with the
    prompts that missed a field and the parse latency."""
    per_field: dict[str, list[float]] = defaultdict(list)
    split: dict[str, list[float]] = defaultdict(list)
    misses: list[dict[str, Any]] = []
    latencies: list[float] = []
    for item in items:
        start = time.perf_counter()
        u = aurora.understand(item["prompt"], check_length=False)
        latencies.append((time.perf_counter() - start) * 1000)
        scores = score_prompt(kb, u, item["expect"])
        inferred = INFERRED_FIELDS | set(item.get("inferred", ()))
        for field, value in scores.items():
            per_field[field].append(value)
            split["inferred" if field in inferred else "explicit"].append(value)
        missed = [f for f, v in scores.items() if v < 1.0]
        if missed:
            misses.append({"id": item["id"], "missed": missed})
    ordered = sorted(latencies)
    return {
        "n": len(items),
        "overall": round(statistics.mean(x for v in per_field.values() for x in v), 3),
        "explicit": round(statistics.mean(split["explicit"]), 3),
        "inferred": round(statistics.mean(split["inferred"]), 3),
        "fields_scored": {kind: len(values) for kind, values in sorted(split.items())},
        "per_field": {f: round(statistics.mean(v), 3) for f, v in sorted(per_field.items())},
        "misses": misses,
        "latency_ms": {
            "median": round(statistics.median(ordered), 2),
            "p90": round(ordered[int(0.9 * len(ordered)) - 1], 2),
        },
    }


def main() -> None:
    kb = load_knowledge()
    aurora = Aurora()
    data = eval_dir()
    dev = labelled_set(kb, aurora, read_jsonl(data / "prompts.jsonl"))
    heldout = labelled_set(kb, aurora, read_jsonl(HELDOUT))

    mb: dict[str, list[float]] = defaultdict(list)
    long_captions = 0
    for item in read_jsonl(data / "external" / "musicbench_test100.jsonl"):
        caption = item["caption"]
        long_captions += len(caption) > PROMPT_MAX_CHARS
        u = aurora.understand(caption, check_length=False)
        p = u.parameters
        if item.get("bpm"):
            mb["TB"].append(float(tempo_bin(p.tempo_bpm) == tempo_bin(item["bpm"])))
            mb["TBT"].append(float(abs(tempo_bin(p.tempo_bpm) - tempo_bin(item["bpm"])) <= 1))
            kind = "stated_bpm" if _STATED_BPM.search(item["control_sentences"]) else "tempo_word"
            mb[f"bpm_within_1_{kind}"].append(float(abs(p.tempo_bpm - item["bpm"]) <= 1))
            mb[f"TB_{kind}"].append(float(tempo_bin(p.tempo_bpm) == tempo_bin(item["bpm"])))
        if item.get("key"):
            mb["CK"].append(float(keys_equal(p.key, item["key"])))
        if item.get("beats_per_bar"):
            mb["beats_per_bar"].append(
                float(int(p.time_signature.split("/")[0]) == item["beats_per_bar"])
            )
        chords = u.plan.chord_progression.chords
        if item.get("chords"):
            mb["chords_exact"].append(
                float(
                    [c.replace("maj", "") for c in chords]
                    # "N" is the chord estimator's "no chord" (silence), not a chord to play.
                    == [c.replace("maj", "") for c in item["chords"] if c != "N"]
                )
            )
    musicbench = {k: round(statistics.mean(v), 3) for k, v in mb.items()}
    musiccaps = _musiccaps(kb, aurora, data)
    path = write_results(
        "parse_accuracy",
        {
            "dev_prompts": dev,
            "heldout_prompts": heldout,
            "musicbench_test100": {
                "n": len(mb["TB"]),
                "captions_over_500_chars": long_captions,
                "captions_with_stated_bpm": len(mb["bpm_within_1_stated_bpm"]),
                "captions_with_tempo_word": len(mb["bpm_within_1_tempo_word"]),
                "metrics": musicbench,
            },
            "musiccaps": musiccaps,
            "latency_ms": dev["latency_ms"],
        },
    )
    for name, result in (("dev", dev), ("heldout", heldout)):
        print(
            f"{name}: overall {result['overall']}, explicit {result['explicit']}, "
            f"inferred {result['inferred']}; per field {result['per_field']}"
        )
    print(f"musicbench {musicbench}")
    print(f"musiccaps {musiccaps}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
