"""Module-specific post-processing of LLM answers (spec v2 §4.3): normalise, clamp, validate, flag.

Each `normalise_*` takes the decoded JSON and returns the validated contract
model; what it changed and which values are unsure go into the `Review`.
Anything unusable raises BackendResponseError.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from functools import lru_cache
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from soundstar.aurora.backends.llm_clean import Review, as_number, clamp, clean_object, join
from soundstar.aurora.backends.llm_schema import JsonSchema, inline_schema
from soundstar.errors import BackendResponseError, ParameterError
from soundstar.models import (
    DURATION_MAX_S,
    DURATION_MIN_S,
    MODES,
    PROMPT_MAX_CHARS,
    TEMPO_MAX_BPM,
    TEMPO_MIN_BPM,
    Enhancement,
    Exclusions,
    MusicalParameters,
    ParsedParameters,
    StructuralPlan,
    split_meter,
)
from soundstar.theory import numeral_to_chord, parse_chord

M = TypeVar("M", bound=BaseModel)

CLAMPED_CONFIDENCE = 0.3
"""An out-of-range value is a guess: its confidence drops below the flag threshold."""
MAX_SECTIONS = 24
MAX_CHORDS = 16
MIN_RATIO = 0.02
TERM_MAX_CHARS = 40
"""Genres, moods, instruments, artists and section names are short; a longer one is suspect."""
MIN_KEPT_SHARE = 0.4
"""An enhancement must keep this share of the prompt's words (template rule 5: keep the intent)."""
_UNSPECIFIED = frozenset({"", "unspecified", "unknown", "none", "null", "n/a", "not specified"})
_MODE_ALIASES = {
    "m": "minor",
    "min": "minor",
    "maj": "major",
    "": "major",
    "aeolian": "minor",
    "ionian": "major",
}
_KEY_RE = re.compile(r"^([A-Ga-g])\s*([#b♯♭]?)\s*(.*)$")


@lru_cache(maxsize=8)
def schema_of(model: type[BaseModel]) -> JsonSchema:
    return inline_schema(model)


def require_object(data: object, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BackendResponseError(f"{what} answer is not a JSON object but {type(data).__name__}")
    return data


def validate(model: type[M], data: dict[str, Any], what: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors()[:5]
        )
        raise BackendResponseError(f"{what} answer does not match the schema: {problems}") from None


def dedupe(
    items: list[Any], key: Callable[[dict[str, Any]], Hashable], review: Review, path: str
) -> list[Any]:
    """Keep the first of each key; non-dict entries are left for validation to reject."""
    seen: set[Hashable] = set()
    out: list[Any] = []
    for item in items:
        if isinstance(item, dict):
            k = key(item)
            if k in seen:
                review.adjust(path, f"duplicate {k!r} dropped")
                continue
            seen.add(k)
        out.append(item)
    return out


def _text(item: dict[str, Any], name: str) -> str:
    value = item.get(name)
    return value.lower() if isinstance(value, str) else ""


def normalise_key(text: str) -> str | None:
    """'a minor', 'Am', 'F# Dorian', 'Bb' -> '<Tonic> <mode>'; None when unreadable."""
    match = _KEY_RE.match(text.strip().replace("♯", "#").replace("♭", "b"))
    if not match:
        return None
    letter, accidental, rest = match.groups()
    mode = rest.strip().lower()
    mode = _MODE_ALIASES.get(mode, mode)
    if mode not in MODES:
        return None
    return f"{letter.upper()}{accidental} {mode}"


def normalise_meter(text: str) -> str | None:
    try:
        num, den = split_meter(text)
    except ValueError:
        return None
    return f"{num}/{den}"


def chord_or_none(symbol: object, key: str | None) -> str | None:
    """A chord symbol the theory module reads; roman numerals converted when the key is known."""
    if not isinstance(symbol, str) or not symbol.strip():
        return None
    text = symbol.strip()
    try:
        parse_chord(text)
        return text
    except ParameterError:
        pass
    if key is None:
        return None
    try:
        return numeral_to_chord(text, key, relative_to="mode")
    except (ParameterError, ValueError):
        return None


def _chords(values: object, key: str | None, review: Review, path: str) -> list[str] | None:
    if not isinstance(values, list):
        return None
    kept = [c for c in (chord_or_none(v, key) for v in values[:MAX_CHORDS]) if c is not None]
    if len(kept) < len(values):
        review.adjust(path, f"{len(values) - len(kept)} unreadable or surplus chords dropped")
    return kept or None


def _optional_value(
    data: dict[str, Any], name: str, review: Review, fix: Callable[[str], str | None]
) -> None:
    """Turn 'unspecified' into null and normalise what remains; an unreadable value becomes null."""
    entry = data.get(name)
    if not isinstance(entry, dict) or not isinstance(entry.get("value"), str):
        return
    value = entry["value"]
    if value.strip().lower() in _UNSPECIFIED:
        entry["value"] = None
        return
    fixed = fix(value)
    if fixed is None:
        review.adjust(join(name, "value"), f"unreadable {value[:40]!r} set to null")
        entry["value"] = None
        entry["confidence"] = 0.0
    else:
        entry["value"] = fixed


def _shorten(text: str) -> str:
    cut = text[:TERM_MAX_CHARS]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).strip()


def _check_term(entry: object, text_key: str, conf_key: str, path: str, review: Review) -> None:
    """Cut an implausibly long term and drop its confidence below the flag threshold."""
    if not isinstance(entry, dict):
        return
    value = entry.get(text_key)
    if isinstance(value, str) and len(value) > TERM_MAX_CHARS:
        entry[text_key] = _shorten(value)
        review.adjust(join(path, text_key), f"implausible {len(value)}-character term cut")
        if isinstance(entry.get(conf_key), float):
            entry[conf_key] = min(entry[conf_key], CLAMPED_CONFIDENCE)


def _check_terms(tidy: dict[str, Any], review: Review) -> None:
    for name in ("genre", "sub_genre", "structure", "era"):
        _check_term(tidy.get(name), "value", "confidence", name, review)
    for name, text_key, conf_key in (
        ("mood", "value", "confidence"),
        ("instrumentation", "name", "confidence"),
        ("instrumentation", "role", "confidence"),
        ("reference_artists", "name", "relevance"),
    ):
        items = tidy.get(name)
        if isinstance(items, list):
            for i, item in enumerate(items):
                _check_term(item, text_key, conf_key, join(name, i), review)


# --------------------------------------------------------------------------- parse


def normalise_parse(data: object, review: Review) -> ParsedParameters:
    raw = _typed_exclusions(require_object(data, "parse"), review)
    tidy = clean_object(raw, schema_of(ParsedParameters), review)
    _check_terms(tidy, review)
    tempo = tidy.get("tempo")
    if isinstance(tempo, dict):
        if tempo.get("type") not in ("explicit", "inferred"):
            review.adjust("tempo.type", f"{str(tempo.get('type'))[:20]!r} read as 'inferred'")
            tempo["type"] = "inferred"
        if "tempo.bpm" in review.clamped and isinstance(tempo.get("confidence"), float):
            tempo["confidence"] = min(tempo["confidence"], CLAMPED_CONFIDENCE)
    for name in ("sub_genre", "era"):
        _optional_value(tidy, name, review, lambda v: v)
    _optional_value(tidy, "key_signature", review, normalise_key)
    meter = tidy.get("time_signature")
    if isinstance(meter, dict) and isinstance(meter.get("value"), str):
        fixed = normalise_meter(meter["value"])
        if fixed is None:
            review.adjust(
                "time_signature.value", f"unreadable {meter['value'][:20]!r} read as '4/4'"
            )
            meter["value"], meter["confidence"] = "4/4", 0.0
        else:
            meter["value"] = fixed
    for name in ("genre", "structure"):
        entry = tidy.get(name)
        if isinstance(entry, dict) and isinstance(entry.get("value"), str):
            entry["value"] = entry["value"].lower()
            if entry["value"] in _UNSPECIFIED:
                entry["confidence"] = 0.0
    _parse_lists(tidy, review)
    duration = tidy.get("duration_seconds")
    if isinstance(duration, float):
        if duration <= 0:
            review.adjust("duration_seconds", "non-positive duration dropped")
            tidy.pop("duration_seconds")
        elif not DURATION_MIN_S <= duration <= DURATION_MAX_S:
            tidy["duration_seconds"] = clamp(duration, DURATION_MIN_S, DURATION_MAX_S)
            review.adjust("duration_seconds", f"{duration:g} s clamped")
            review.low_confidence.append("duration_seconds")
    parsed = validate(ParsedParameters, tidy, "parse")
    _flag_parse(parsed, review)
    return parsed


def _typed_exclusions(raw: dict[str, Any], review: Review) -> dict[str, Any]:
    """An answer in the older shape (`excluded`: a list of words) read once into the typed
    `exclusions`, so no LLM following an older template breaks."""
    words = raw.get("excluded")
    if "excluded" not in raw:
        return raw
    tidy = {k: v for k, v in raw.items() if k != "excluded"}
    if isinstance(words, list):
        old = Exclusions.from_words([w for w in words if isinstance(w, str) and w])
        given = tidy.get("exclusions")
        try:
            typed = Exclusions.model_validate(given) if isinstance(given, dict) else None
        except ValidationError:
            typed = None
        tidy["exclusions"] = (typed.merged(old) if typed else old).model_dump(mode="json")
    return tidy


def _parse_lists(tidy: dict[str, Any], review: Review) -> None:
    moods = tidy.get("mood")
    if isinstance(moods, list):
        for item in moods:
            if isinstance(item, dict) and isinstance(item.get("value"), str):
                item["value"] = item["value"].lower()
        moods = [m for m in moods if not (isinstance(m, dict) and m.get("value") in _UNSPECIFIED)]
        tidy["mood"] = dedupe(moods, lambda m: _text(m, "value"), review, "mood")
    instruments = tidy.get("instrumentation")
    if isinstance(instruments, list):
        for item in instruments:
            if isinstance(item, dict):
                for name in ("name", "role"):
                    if isinstance(item.get(name), str):
                        item[name] = item[name].lower()
                if item.get("descriptor") == "":
                    item["descriptor"] = None
        instruments = [i for i in instruments if not (isinstance(i, dict) and i.get("name") == "")]
        # an LLM's repeated name is one player (an entry is a player everywhere downstream)
        tidy["instrumentation"] = dedupe(
            instruments, lambda i: _text(i, "name"), review, "instrumentation"
        )
    artists = tidy.get("reference_artists")
    if isinstance(artists, list):
        artists = [a for a in artists if not (isinstance(a, dict) and a.get("name") == "")]
        tidy["reference_artists"] = dedupe(
            artists, lambda a: _text(a, "name"), review, "reference_artists"
        )
    if "chord_progression" in tidy:
        tidy["chord_progression"] = _chords(
            tidy["chord_progression"], None, review, "chord_progression"
        )
    names = tidy.get("section_names")
    if isinstance(names, list):
        kept = [n.lower() for n in names if isinstance(n, str) and n][:MAX_SECTIONS]
        tidy["section_names"] = kept or None


def _flag_parse(parsed: ParsedParameters, review: Review) -> None:
    review.check("genre", parsed.genre.confidence)
    for name in ("sub_genre", "key_signature"):
        entry = getattr(parsed, name)
        if entry.value is not None:
            review.check(name, entry.confidence)
    if parsed.era is not None and parsed.era.value is not None:
        review.check("era", parsed.era.confidence)
    review.check("tempo", parsed.tempo.confidence)
    review.check("structure", parsed.structure.confidence)
    review.check("time_signature", parsed.time_signature.confidence)
    review.check("energy_level", parsed.energy_level.confidence)
    for i, mood in enumerate(parsed.mood):
        review.check(f"mood[{i}]", mood.confidence)
    for i, instrument in enumerate(parsed.instrumentation):
        review.check(f"instrumentation[{i}]", instrument.confidence)
    for i, artist in enumerate(parsed.reference_artists):
        review.check(f"reference_artists[{i}]", artist.relevance)


# --------------------------------------------------------------------------- enhance


def normalise_enhance(data: object, original_prompt: str, review: Review) -> Enhancement:
    raw = require_object(data, "enhance")
    raw.pop("original_prompt", None)
    tidy = clean_object(raw, schema_of(Enhancement), review)
    tidy["original_prompt"] = original_prompt
    text = tidy.get("enhanced_prompt")
    if not isinstance(text, str) or not text:
        raise BackendResponseError("enhance answer has no enhanced_prompt")
    kept = kept_share(original_prompt, text)
    if kept < MIN_KEPT_SHARE:
        raise BackendResponseError(
            f"enhanced prompt keeps only {kept:.0%} of the original prompt's words; "
            "it must build on the prompt, not replace it"
        )
    if len(text) > PROMPT_MAX_CHARS:
        cut = text[:PROMPT_MAX_CHARS].rsplit(" ", 1)[0]
        review.adjust("enhanced_prompt", f"{len(text)} characters cut to {len(cut)}")
        tidy["enhanced_prompt"] = cut
    additions = tidy.get("additions")
    if isinstance(additions, list):
        for i, item in enumerate(additions):
            if isinstance(item, dict):
                _fix_addition(item, review, join("additions", i))
        additions = [a for a in additions if not (isinstance(a, dict) and a.get("value") == "")]
        tidy["additions"] = dedupe(
            additions, lambda a: (_text(a, "type"), _text(a, "value")), review, "additions"
        )
    enhancement = validate(Enhancement, tidy, "enhance")
    review.check("confidence", enhancement.confidence)
    for i, addition in enumerate(enhancement.additions):
        review.check(f"additions[{i}]", addition.confidence)
    return enhancement


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) >= 3}


def kept_share(original: str, enhanced: str) -> float:
    """The share of the original prompt's words (3+ letters) that the enhanced prompt keeps."""
    words = _words(original)
    return len(words & _words(enhanced)) / len(words) if words else 1.0


def _fix_addition(item: dict[str, Any], review: Review, path: str) -> None:
    if isinstance(item.get("type"), str):
        item["type"] = item["type"].lower()
    item.setdefault("reasoning", "")
    if item.get("type") != "tempo" or not isinstance(item.get("value"), str):
        return
    match = re.search(r"\d+(?:\.\d+)?", item["value"])
    bpm = float(match.group(0)) if match else None
    if bpm is not None and not TEMPO_MIN_BPM <= bpm <= TEMPO_MAX_BPM:
        bounded = clamp(bpm, TEMPO_MIN_BPM, TEMPO_MAX_BPM)
        review.adjust(join(path, "value"), f"tempo {bpm:g} clamped to {bounded:g}")
        item["value"] = f"{bounded:g}"
        if isinstance(item.get("confidence"), float):
            item["confidence"] = min(item["confidence"], CLAMPED_CONFIDENCE)


# --------------------------------------------------------------------------- plan


def normalise_plan(data: object, params: MusicalParameters, review: Review) -> StructuralPlan:
    raw = require_object(data, "plan")
    raw_sections = raw.get("sections")
    ratios = (
        [as_number(s.get("duration_ratio")) if isinstance(s, dict) else None for s in raw_sections]
        if isinstance(raw_sections, list)
        else []
    )
    tidy = clean_object(raw, schema_of(StructuralPlan), review)
    structure = tidy.get("structure_type")
    if not isinstance(structure, str) or not structure:
        tidy["structure_type"] = params.structure
    progression = tidy.get("chord_progression")
    if not isinstance(progression, dict):
        raise BackendResponseError("plan answer has no chord_progression object")
    key = _fix_progression(progression, params, review)
    tidy["sections"] = _fix_sections(tidy.get("sections"), ratios, key, review)
    names = {s["name"].lower() for s in tidy["sections"]}
    transitions = tidy.get("transitions")
    if isinstance(transitions, list):
        kept = []
        for t in transitions:
            if not isinstance(t, dict):
                continue
            if _text(t, "from") in names and _text(t, "to") in names:
                if isinstance(t.get("type"), str):
                    t["type"] = t["type"].lower()[:32]
                kept.append(t)
        if len(kept) < len(transitions):
            review.adjust(
                "transitions", f"{len(transitions) - len(kept)} naming unknown sections dropped"
            )
        tidy["transitions"] = kept
    return validate(StructuralPlan, tidy, "plan")


def _fix_progression(progression: dict[str, Any], params: MusicalParameters, review: Review) -> str:
    """Read the tonic and mode (falling back to the parameters' key); returns '<tonic> <mode>'."""
    raw_tonic, raw_mode = progression.get("key"), progression.get("mode")
    tonic_text = raw_tonic if isinstance(raw_tonic, str) else ""
    mode_text = raw_mode if isinstance(raw_mode, str) else ""
    key = normalise_key(f"{tonic_text} {mode_text}") or normalise_key(str(tonic_text))
    if key is None:
        review.adjust(
            "chord_progression.key",
            f"unreadable key {tonic_text[:20]!r} {mode_text[:20]!r}; using {params.key!r}",
        )
        key = params.key
    tonic, mode = key.split(" ", 1)
    progression["key"], progression["mode"] = tonic, mode
    chords = _chords(progression.get("chords"), key, review, "chord_progression.chords")
    if chords is None:
        raise BackendResponseError("plan answer has no readable chords in chord_progression")
    progression["chords"] = chords
    return key


def _fix_sections(
    sections: object, ratios: list[float | None], key: str, review: Review
) -> list[dict[str, Any]]:
    """Drop sections without a positive ratio, name the unnamed, renormalise ratios to sum to 1.

    `ratios` are read from the answer before cleaning, which would clamp them to 1.
    """
    if not isinstance(sections, list):
        raise BackendResponseError("plan answer has no sections list")
    kept: list[dict[str, Any]] = []
    for i, section in enumerate(sections[:MAX_SECTIONS]):
        path = join("sections", i)
        if not isinstance(section, dict):
            review.adjust(path, "not an object; dropped")
            continue
        ratio = ratios[i] if i < len(ratios) else None
        if ratio is None or ratio <= 0:
            review.adjust(
                path, f"duration_ratio {str(section.get('duration_ratio'))[:20]} unusable; dropped"
            )
            continue
        section["duration_ratio"] = ratio
        if not isinstance(section.get("name"), str) or not section["name"]:
            section["name"] = f"section {i + 1}"
        section["name"] = _shorten(section["name"].lower())
        if "chords" in section:
            section["chords"] = _chords(section["chords"], key, review, join(path, "chords"))
        kept.append(section)
    if not kept:
        raise BackendResponseError("plan answer has no usable sections")
    total = sum(s["duration_ratio"] for s in kept)
    if abs(total - 1.0) > 1e-3:
        review.adjust("sections", f"duration ratios summed to {total:.4g}; renormalised")
    tiny = [s for s in kept if s["duration_ratio"] / total < MIN_RATIO]
    if tiny and len(tiny) < len(kept):
        review.adjust(
            "sections", f"{len(tiny)} sections under {MIN_RATIO:.0%} of the piece dropped"
        )
        kept = [s for s in kept if s["duration_ratio"] / total >= MIN_RATIO]
        total = sum(s["duration_ratio"] for s in kept)
    for s in kept:
        s["duration_ratio"] = s["duration_ratio"] / total
    return kept
