"""Stage 1 (spec v1 §4.2, v2 §6.2): normalize, correct, expand, moderate, check length."""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from soundstar.errors import ContentPolicyError, InvalidPromptError
from soundstar.knowledge import load_knowledge
from soundstar.knowledge.loader import load_derived
from soundstar.models import PROMPT_MAX_CHARS, PROMPT_MIN_CHARS

_DATA = Path(__file__).parent / "data"
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[a-z][a-z0-9&']*")
_PUNCT_MAP = str.maketrans(
    {"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "♯": "#", "♭": "b"}
)
_MIN_FUZZY_LEN = 6


@dataclass(frozen=True)
class Preprocessed:
    original: str
    text: str
    corrections: list[tuple[str, str]] = field(default_factory=list)
    expansions: list[tuple[str, str]] = field(default_factory=list)

    @property
    def corrected_original(self) -> str:
        """The person's own words (their casing) with the spelling corrections applied."""
        out = " ".join(unicodedata.normalize("NFKC", self.original).translate(_PUNCT_MAP).split())
        for wrong, right in self.corrections:
            out = re.sub(re.escape(wrong), right, out, count=1, flags=re.IGNORECASE)
        return out


def normalize(text: str) -> str:
    """NFKC, unify dashes and quotes, lowercase, collapse whitespace."""
    text = unicodedata.normalize("NFKC", text).translate(_PUNCT_MAP)
    return _SPACE.sub(" ", text).strip().lower()


@lru_cache(maxsize=1)
def _moderation_rules() -> list[tuple[str, re.Pattern[str]]]:
    text = (_DATA / "moderation.yaml").read_text(encoding="utf-8")
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return [(rule["category"], re.compile(p)) for rule in data["rules"] for p in rule["patterns"]]


def moderate(text: str) -> str | None:
    """The category of disallowed content found in normalized text, or None."""
    for category, pattern in _moderation_rules():
        if pattern.search(text):
            return category
    return None


Vocabulary = tuple[frozenset[str], frozenset[str], dict[str, list[str]], dict[str, list[str]]]


@lru_cache(maxsize=1)
def _vocabulary() -> Vocabulary:
    """Known words; multi-word music terms; candidates by prefix (two letters for
    multi-word terms, one for single words), so a misspelling is compared only
    with terms it could plausibly be. Compiled once per knowledge base."""
    return load_derived("spelling-vocabulary", _build_vocabulary, tuple, code=Path(__file__))


def _build_vocabulary() -> Vocabulary:
    kb = load_knowledge()
    surfaces = [s.replace("-", " ") for s in kb.vocabulary()]
    words = frozenset(w for s in surfaces for w in s.split())
    multi = frozenset(s for s in surfaces if " " in s)
    multi_by_prefix: dict[str, list[str]] = {}
    for term in sorted(multi):
        multi_by_prefix.setdefault(term[:2], []).append(term)
    single_by_prefix: dict[str, list[str]] = {}
    for term in sorted({s for s in surfaces if " " not in s and len(s) >= _MIN_FUZZY_LEN - 1}):
        single_by_prefix.setdefault(term[:1], []).append(term)
    return words, multi, multi_by_prefix, single_by_prefix


def _closest(word: str, candidates: list[str], cutoff: float) -> str | None:
    """difflib's closest match, after dropping candidates whose length alone rules them out.

    difflib's ratio is at most 2·min(len)/(len a + len b), so the filter loses nothing.
    """
    size = len(word)
    fitting = [c for c in candidates if 2 * min(len(c), size) / (len(c) + size) >= cutoff]
    match = difflib.get_close_matches(word, fitting, n=1, cutoff=cutoff)
    return match[0] if match else None


_PAIR_WORD_CUTOFF = 0.7


def _word_for_word(pair: str, term: str) -> bool:
    """Whether each word of a two-word phrase is a near spelling of the term's word in its
    place ("bossa noav": "bossa nova"; not "strings are": "string quartet"). Terms of
    another length are compared whole only."""
    words, term_words = pair.split(), term.split()
    if len(words) != len(term_words):
        return True
    return all(
        difflib.SequenceMatcher(None, w, t).ratio() >= _PAIR_WORD_CUTOFF
        for w, t in zip(words, term_words, strict=True)
    )


def _correct(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Fix misspelt music terms: two-word terms first ("bossa noav"), then single words."""
    known, multi, multi_by_prefix, single_by_prefix = _vocabulary()
    tokens = text.split(" ")
    corrections: list[tuple[str, str]] = []
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if i + 1 < len(tokens) and tokens[i] == tokens[i].rstrip(".,;:!?"):
            # a comma between two words ("bass, drums") separates them: never one term
            pair = f"{tokens[i]} {tokens[i + 1]}"
            bare = pair.strip(".,;:!?")
            spaced = bare.replace("-", " ")
            if spaced not in multi and not all(w in known for w in spaced.split()):
                match = _closest(bare, multi_by_prefix.get(bare[:2], []), 0.8)
                if match and _word_for_word(spaced, match):
                    corrections.append((bare, match))
                    out.append(pair.replace(bare, match))
                    i += 2
                    continue
        token = tokens[i]
        bare = token.strip(".,;:!?")
        if len(bare) >= _MIN_FUZZY_LEN and bare.isalpha() and bare not in known:
            match = _closest(bare, single_by_prefix.get(bare[:1], []), 0.86)
            if match:
                corrections.append((bare, match))
                token = token.replace(bare, match)
        out.append(token)
        i += 1
    return " ".join(out), corrections


def _expand(text: str) -> tuple[str, list[tuple[str, str]]]:
    kb = load_knowledge()
    expansions: list[tuple[str, str]] = []

    def replace(match: re.Match[str]) -> str:
        short = match.group(0)
        expansion = kb.abbreviations.get(short)
        if expansion is None or expansion == short:
            return short
        expansions.append((short, expansion))
        return expansion

    pattern, protected = _abbreviation_patterns()
    if pattern is None:
        return text, expansions
    kept = [m.span() for m in protected.finditer(text)] if protected is not None else []
    if not kept:
        return pattern.sub(replace, text), expansions

    def replace_outside(match: re.Match[str]) -> str:
        inside = any(a <= match.start() and match.end() <= b for a, b in kept)
        return match.group(0) if inside else replace(match)

    return pattern.sub(replace_outside, text), expansions


@lru_cache(maxsize=1)
def _abbreviation_patterns() -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """The abbreviations, and the multi-word music terms that contain one ("alternative r&b"):
    inside those the abbreviation is part of a name and stays as written."""
    kb = load_knowledge()
    shorts = sorted(kb.abbreviations, key=len, reverse=True)
    if not shorts:
        return None, None
    pattern = re.compile(
        r"(?<![\w&'-])(" + "|".join(re.escape(s) for s in shorts) + r")(?![\w&'-])"
    )
    terms = sorted(
        (
            t
            for t in kb.vocabulary()
            if " " in t and pattern.search(t) and t not in kb.abbreviations
        ),
        key=len,
        reverse=True,
    )
    protected = (
        re.compile(r"(?<![\w&'-])(" + "|".join(re.escape(t) for t in terms) + r")(?![\w&'-])")
        if terms
        else None
    )
    return pattern, protected


def preprocess(raw: str, *, check_length: bool = True) -> Preprocessed:
    """Normalize and clean a prompt; raise INVALID_PROMPT or CONTENT_POLICY_VIOLATION.

    `check_length=False` is for library callers (benchmarks over long captions);
    the service and CLI always check the 10–500 character rule.
    """
    text = check_prompt(raw, check_length=check_length)
    text, corrections = _correct(text)
    text, expansions = _expand(text)
    return Preprocessed(original=raw, text=text, corrections=corrections, expansions=expansions)


def check_prompt(raw: str, *, check_length: bool = True) -> str:
    """The normalized prompt once it passes the length and content rules; raise
    INVALID_PROMPT or CONTENT_POLICY_VIOLATION. Reads nothing else into the words."""
    if not isinstance(raw, str):
        raise InvalidPromptError("the prompt must be text")
    text = normalize(raw)
    if check_length:
        if len(text) < PROMPT_MIN_CHARS:
            raise InvalidPromptError(
                f"the prompt is too short ({len(text)} characters); describe the music in at least "
                f"{PROMPT_MIN_CHARS} characters",
                field="prompt",
            )
        if len(text) > PROMPT_MAX_CHARS:
            raise InvalidPromptError(
                f"the prompt is too long ({len(text)} characters); the limit is {PROMPT_MAX_CHARS}",
                field="prompt",
            )
    category = moderate(text)
    if category is not None:
        raise ContentPolicyError(
            f"the prompt contains disallowed content ({category})", field="prompt"
        )
    return text
