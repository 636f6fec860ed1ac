"""The offline semantic parser: prompt text → ParsedParameters, every field with a confidence.

It reads what is stated (BPM, key, meter, duration, chords, sections, negations)
with patterns, and what is named (genres, moods, instruments, artists, eras,
structures) with the knowledge base; what is neither is inferred from the
genre and marked as inferred with a lower confidence.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass

from soundstar.aurora.infer import ensemble_is_the_band, players
from soundstar.aurora.lineup import resolve_name, sings
from soundstar.aurora.rules.matcher import Mention, find_mentions, tokenize
from soundstar.aurora.rules.scope import NEGATION_CUES, Scope, read_scope
from soundstar.aurora.understood import says_music
from soundstar.errors import ParameterError
from soundstar.knowledge import Ensemble, Genre, KnowledgeBase, load_knowledge, normalize
from soundstar.knowledge.exclusion import excludes
from soundstar.models import (
    TEMPO_MAX_BPM,
    TEMPO_MIN_BPM,
    ArtistReference,
    EnergyValue,
    Exclusions,
    InstrumentMention,
    OptionalValueWithConfidence,
    ParsedParameters,
    TempoValue,
    ValueWithConfidence,
)
from soundstar.theory import numeral_to_chord, parse_chord

_MODE_WORDS = {
    "major": "major",
    "maj": "major",
    "minor": "minor",
    "min": "minor",
    "m": "minor",
    "dorian": "dorian",
    "phrygian": "phrygian",
    "lydian": "lydian",
    "mixolydian": "mixolydian",
    "locrian": "locrian",
    "harmonic minor": "harmonic minor",
    "melodic minor": "melodic minor",
    "aeolian": "minor",
    "ionian": "major",
}
_MODE_ALT = "harmonic minor|melodic minor|major|minor|maj|min|dorian|phrygian|lydian|mixolydian|locrian|aeolian|ionian"
_KEY_STATED = re.compile(
    r"\b(?:in(?: the key of)?|key of|key is|key:|key)\s+([a-g])(\s?(?:#|b|sharp|flat))?\s*("
    + _MODE_ALT
    + r"|m)?\b"
)
_KEY_ANYWHERE = re.compile(r"\b([a-g])(#|b)?\s?(" + _MODE_ALT + r")\b")
_MODE_ONLY = re.compile(
    r"\b("
    + _MODE_ALT
    + r")\s+(?:key|mode|scale|tonality)\b|\b(dorian|phrygian|lydian|mixolydian|locrian)\b"
)
_BPM = re.compile(
    r"(\d{2,3}(?:\.\d+)?)\s*(?:-|–|to)?\s*(\d{2,3}(?:\.\d+)?)?\s*(?:bpm|beats per minute|beats a minute|b\.p\.m)"
)
_TEMPO_OF = re.compile(
    r"\b(?:tempo|bpm|beats per minute)\s*(?:of|is|at|around|about|:|=|~)?\s*(\d{2,3}(?:\.\d+)?)\b"
)
_METER = re.compile(r"(?<![\d/])(\d{1,2})\s?/\s?(\d{1,2})(?![\d/])")
_BEAT_IS = re.compile(
    r"\bbeats? (?:is|counts to|count is) (\d{1,2})\b|\b(\d{1,2}) beats (?:per|to the|in a) (?:bar|measure)\b"
)
_AT_NUMBER = re.compile(
    r"\bat (?:about |around )?(\d{2,3})(?:\.\d+)?\b(?!\s*(?:%|percent|hz|khz|db|seconds?|secs?|s\b|minutes?|mins?|years?|am\b|pm\b|o'clock|degrees|fps|kbps))"
)
_ALONE = re.compile(r"\b(solo|only|unaccompanied|alone|just)\b")
# "a rock song with a guitar solo" features a solo in a band; "a piano solo" is one player,
# and so is "with a sitar playing solo"
_FEATURED_SOLO = re.compile(
    r"\b(?:with|featuring)\s+(?:an?\s+)?(?:[\w'-]+\s+){1,3}(?<!playing )(?<!plays )solos?\b"
)
_CHORDS_ARE = re.compile(
    r"(?i:\bchord (?:progression|sequence|changes)\b[^.]*?\b(?:is|are|:))\s+([^.;!?\n]+)"
)
_DURATION = re.compile(
    r"\b(\d+(?:\.\d+)?)\s*-?\s*(seconds?|secs?|s|minutes?|mins?)\b(?!\s*(?:of silence|later|ago))"
)
_MIN_SEC = re.compile(r"\b(\d{1,2}):([0-5]\d)\b(?!\s*(?:am|pm))")
_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "half a": 0.5,
    "a": 1,
    "an": 1,
}
_DURATION_WORDS = re.compile(r"\b(half a|one|two|three|four|five|a|an)\s+(minute|minutes)\b")
_SECTION_WORDS = re.compile(
    r"\b(intro|verse|pre[- ]chorus|chorus|bridge|breakdown|build ?up|build|drop|outro|solo|hook|interlude|coda|refrain|head)\b"
)
SECTION_WORDS = _SECTION_WORDS
"""Section names the parser reads as a section list when three or more appear with a comma."""
_ROLE_HINTS = {
    "lead": "lead",
    "solo": "lead",
    "melody": "lead",
    "pad": "pad",
    "pads": "pad",
    "arpeggio": "arp",
    "arpeggios": "arp",
    "arpeggiated": "arp",
    "arp": "arp",
    "arps": "arp",
    "chords": "chords",
    "comping": "chords",
    "rhythm": "chords",
    "strummed": "chords",
    "drone": "texture",
    "ambience": "texture",
}
_COPIES = {"two": 2, "2": 2, "twin": 2, "dual": 2, "three": 3, "3": 3, "four": 4, "4": 4}
"""Words before an instrument that say how many play it ("two violins", "twin guitars")."""
_STOPWORDS = {
    "a", "an", "the", "and", "with", "of", "some", "plus", "or", "to", "in", "on", "for", "by", "lots", "lot",
    "heavy", "light", "featuring", "feat", "using", "has", "have", "is", "are", "its", "it's", "this", "that", "&",
    "just", "only", "also", "then", "very", "really", "more", "less",
    "over", "under", "as", "like", "while", "from", "at", "into", "onto", "behind", "alongside", "beside",
    "beneath", "along", "against", "through", "between", "upon", "than", "but", "which", "who", "where",
    "features", "featured", "contains", "includes", "plays", "playing", "played", "sounds", "sounding",
}  # fmt: skip
_ENERGY_WORDS = {
    "high energy": 0.9,
    "high-energy": 0.9,
    "energetic": 0.8,
    "intense": 0.9,
    "explosive": 0.95,
    "hard hitting": 0.85,
    "driving": 0.75,
    "upbeat": 0.7,
    "powerful": 0.8,
    "low energy": 0.2,
    "low-energy": 0.2,
    "calm": 0.2,
    "chill": 0.3,
    "relaxed": 0.25,
    "relaxing": 0.25,
    "mellow": 0.3,
    "gentle": 0.25,
    "soft": 0.3,
    "quiet": 0.2,
    "sleepy": 0.1,
    "laid back": 0.3,
    "laid-back": 0.3,
    "peaceful": 0.15,
    "moderate": 0.5,
}
_CHORD_TOKEN = r"[A-G][#b♯♭]?(?:maj7|maj9|maj|min7|min|m7b5|mmaj7|m7|m9|m6|m|dim7|dim|aug|sus2|sus4|sus|add9|7sus4|ø7|ø|°7|°|o7|6|7|9|5|\+)?(?:/[A-G][#b]?)?"
# One chord right after the word: "with chords Cmaj7", "the chord: D7".
_ONE_CHORD = re.compile(
    r"(?i:\bchords?)\s*(?:(?i:is|of)\s+|:\s*)?(" + _CHORD_TOKEN + r")(?![\w#/])"
)
_CHORD_RUN = re.compile(
    r"(?<![\w#])("
    + _CHORD_TOKEN
    + r")((?:\s*(?:,|-|–|—|\||→|->|and|then)?\s*"
    + _CHORD_TOKEN
    + r"(?![\w#]))+)"
)
_NUMERAL_TOKEN = r"[b#♭]?(?:VII|VI|IV|V|III|II|I|vii|vi|iv|v|iii|ii|i)(?:maj7|7|o7|ø7|o|°|\+|sus2|sus4|6|9|add9)?"
_NUMERAL_RUN = re.compile(
    r"(?<![\w#])("
    + _NUMERAL_TOKEN
    + r")((?:\s*(?:-|–|—|,|→|->)\s*"
    + _NUMERAL_TOKEN
    + r"(?![\w]))+)"
)


@dataclass(frozen=True)
class Reading:
    """What the parser found, with knowledge-base ids the mapper can use without re-parsing."""

    parsed: ParsedParameters
    genre_id: str | None
    sub_genre_id: str | None
    mood_ids: list[str]
    instrument_ids: list[tuple[str, str, str | None]]  # (id, role, descriptor)
    artist_names: list[str]
    era_id: str | None
    structure_id: str | None
    tempo_multiplier: float | None
    tempo_cap: float | None
    mode_hint: str | None
    tonic_hint: str | None = None
    ensemble_size: int | None = None
    """Players an ensemble word states ("a trio") when fewer instruments are named: the genre
    fills the lineup up to it. None when no size is stated, or the named ones make it
    (`parsed.exclusions.only`)."""
    ensemble_ids: tuple[str, ...] = ()
    """Named ensembles ("string quartet") the prompt asks for; their members are in
    `instrument_ids`, and with them the lineup is complete (`parsed.exclusions.only`)."""
    understood: bool = True
    """Whether anything musical was read at all ("asdf qwer" reads nothing)."""


def _is_descriptor(word: str) -> bool:
    return (
        len(word) > 1
        and word not in _STOPWORDS
        and word not in _ROLE_HINTS
        and word not in _COPIES
        and word.isalpha()
    )


def _copies(earlier: str, before: str) -> int:
    """How many play the instrument named after the words `earlier` `before`: "two
    violins", "twin lead guitars", "a pair of trumpets"; 1 when no number is given."""
    if before in _COPIES:
        return _COPIES[before]
    if before in _ROLE_HINTS and earlier in _COPIES:
        return _COPIES[earlier]
    return 2 if (earlier, before) == ("pair", "of") else 1


def _descriptor(
    earlier: str, before: str, surface: str, name: str, playing: Container[str]
) -> str | None:
    """The words that colour an instrument: "pulsing bass", "dreamy pads", "pulsing low
    strings". A word about how it plays (`playing`) wins over any other adjective, and
    two such words before the name are both kept."""
    words = surface.split()
    name_words = {w for w, _ in tokenize(name)}
    inner = (
        words[0]
        if len(words) > 1 and words[0] not in name_words and _is_descriptor(words[0])
        else None
    )
    outer = before if _is_descriptor(before) and before not in NEGATION_CUES else None
    if inner is not None and outer is not None and outer in playing and inner in playing:
        return f"{outer} {inner}"
    if inner is not None and (inner in playing or outer is None):
        return inner
    if outer is None:
        return None
    if outer in playing and earlier in playing:
        return f"{earlier} {outer}"
    return outer


def _stated_tempo(text: str) -> float | None:
    match = _BPM.search(text)
    if match:
        low = float(match.group(1))
        high = float(match.group(2)) if match.group(2) else low
        return (low + high) / 2
    match = _TEMPO_OF.search(text)
    if match:
        return float(match.group(1))
    match = _AT_NUMBER.search(text)
    if match and TEMPO_MIN_BPM <= float(match.group(1)) <= TEMPO_MAX_BPM:
        return float(match.group(1))
    return None


# Chord-symbol style keys ("The key is DM", "key of this song is D#m", "the key of G#M or C#m"):
# read in the original text, where the case of "M" (major) and "m" (minor) is kept.
_KEY_SYMBOL = re.compile(
    r"\bkey\b(?: of (?:this|the) (?:song|piece|track|tune|clip))?(?: is| of|:)?\s+"
    r"([A-Ga-g])([#b♯♭]?)(M|m)(?![\w#♯♭])"
)
_SYMBOL_MODES = {"M": "major", "m": "minor"}
_BARE_TONIC = re.compile(r"\b(?:in|key of)\s+([A-G])([#b♯♭])?(?![\w#♯♭'-])")


def _stated_key(text: str, original: str = "") -> tuple[str | None, str | None, float]:
    """(tonic, mode, confidence); either may be None.

    A capital letter alone after "in" ("a blues in E") names the tonic only in
    the original text, where case tells it from the article "a".
    """
    symbol = _KEY_SYMBOL.search(original)
    if symbol:
        accidental = symbol.group(2).replace("♯", "#").replace("♭", "b")
        return symbol.group(1).upper() + accidental, _SYMBOL_MODES[symbol.group(3)], 0.95
    match = _KEY_STATED.search(text)
    if match and (match.group(2) or match.group(3) or "key" in match.group(0)):
        tonic = match.group(1).upper()
        accidental = (match.group(2) or "").strip()
        tonic += "#" if accidental in ("#", "sharp") else "b" if accidental in ("b", "flat") else ""
        mode = _MODE_WORDS.get(match.group(3) or "")
        return tonic, mode, 0.95 if mode else 0.8
    match = _KEY_ANYWHERE.search(text)
    if match and not (
        match.group(1) == "a"
        and not match.group(2)
        and match.group(3) in ("major", "minor")
        and _article_use(text, match.start())
    ):
        tonic = match.group(1).upper() + (match.group(2) or "")
        return tonic, _MODE_WORDS[match.group(3)], 0.85
    match = _MODE_ONLY.search(text)
    mode_only = _MODE_WORDS[match.group(1) or match.group(2)] if match else None
    bare = _BARE_TONIC.search(original)
    if bare:
        accidental = (bare.group(2) or "").replace("♯", "#").replace("♭", "b")
        return bare.group(1) + accidental, mode_only, 0.75
    if mode_only:
        return None, mode_only, 0.7
    return None, None, 0.0


def _article_use(text: str, start: int) -> bool:
    """ "a minor change" uses "a" as an article; "in a minor" names a key."""
    before = text[max(0, start - 12) : start]
    after = text[start:].split(" ")
    key_context = re.search(r"\b(in|key|of)\s*$", before)
    noun_after = len(after) > 2 and after[2] not in ("key", "scale", "mode", "tonality", "")
    return not key_context and noun_after


def _stated_meter(text: str) -> str | None:
    for match in _METER.finditer(text):
        num, den = int(match.group(1)), int(match.group(2))
        if 2 <= num <= 15 and den in (2, 4, 8, 16):
            return f"{num}/{den}"
    beat = _BEAT_IS.search(text)
    if beat:
        num = int(beat.group(1) or beat.group(2))
        if 2 <= num <= 12:
            return f"{num}/4"
    if re.search(r"\bwaltz\b|\bin three\b|\btriple (meter|time)\b", text):
        return "3/4"
    if re.search(r"\bcompound (meter|time)\b|\bjig\b", text):
        return "6/8"
    return None


def _stated_duration(text: str) -> float | None:
    for match in _DURATION.finditer(text):
        value = float(match.group(1))
        unit = match.group(2)
        if value <= 0:
            continue
        if (
            unit == "s"
            and value.is_integer()
            and (10 <= value <= 90 or 1900 <= value <= 2090)
            and value % 10 == 0
        ):
            continue  # "80s" is a decade, not eighty seconds
        return value * 60 if unit.startswith("m") else value
    clock = _MIN_SEC.search(text)
    if clock and re.search(r"\b(long|length|duration|minutes?|track of|lasting)\b", text):
        return int(clock.group(1)) * 60 + int(clock.group(2))
    words = _DURATION_WORDS.search(text)
    if words:
        return _NUMBER_WORDS[words.group(1)] * 60
    return None


def stated_progression(original: str, key_hint: str | None) -> list[str] | None:
    """Chord symbols the person wrote ("Am F C G", "ii–V–I"), as symbols; None when absent."""
    text = original.replace("♯", "#").replace("♭", "b")
    stated = _CHORDS_ARE.search(text)
    if stated:
        symbols: list[str] = []
        for token in re.split(r"\s*(?:,|\band\b|\bthen\b|-|–|→|\s)\s*", stated.group(1).strip()):
            if not token:
                continue
            try:
                symbols.append(parse_chord(token).symbol)
            except ParameterError:
                break
        if symbols:
            return symbols
    for match in _CHORD_RUN.finditer(text):
        symbols = re.findall(_CHORD_TOKEN + r"(?![\w#])", match.group(0))
        context = text[max(0, match.start() - 40) : match.start()].lower()
        if len(symbols) >= 3 or (len(symbols) >= 2 and re.search(r"chord|progression", context)):
            try:
                return [parse_chord(s).symbol for s in symbols]
            except ParameterError:
                continue
    one = _ONE_CHORD.search(text)
    if one and len(one.group(1)) > 1:  # a lone capital after "chord" could be a word
        return [parse_chord(one.group(1)).symbol]
    if key_hint:
        for match in _NUMERAL_RUN.finditer(text):
            numerals = re.split(r"\s*(?:-|–|—|,|→|->)\s*", match.group(0).strip())
            if len(numerals) < 3 and not re.search(r"progression|chords", text.lower()):
                continue
            relative = "major" if any(n[0] in "b#♭" for n in numerals) else "mode"
            try:
                return [numeral_to_chord(n, key_hint, relative_to=relative) for n in numerals]
            except ParameterError:
                continue
    return None


def _section_list(text: str) -> list[str] | None:
    found = [m.group(1).replace("-", " ") for m in _SECTION_WORDS.finditer(text)]
    if len(found) >= 3 and re.search(r"(,|->|→|\bthen\b|\bfollowed by\b)", text):
        return [
            re.sub(r"\s+", "-", f) if f.startswith("pre") else f.replace(" ", "") for f in found
        ]
    return None


_FORM_TEMPO = 0.6
"""Confidence of a tempo a named form gives (above a genre default's 0.5, so moods do not
move it back into the style's range; below a tempo word's 0.75)."""


def _size_words(
    kb: KnowledgeBase, tokens: list[str], mentions: list[Mention], scope: Scope
) -> list[Ensemble]:
    """The ensemble words that state a number of players ("a piano and cello duet"). Inside
    a style's or an instrument's name one still counts ("a jazz trio" is jazz by three
    players); inside a named ensemble's ("string quartet") or an artist's name ("dave
    brubeck quartet") it names the group, and a negated one ("not a trio") states nothing."""
    inside = {
        k
        for m in mentions
        if m.end - m.start > 1 and m.table not in ("genres", "instruments")
        for k in range(m.start, m.end)
    }
    return [
        kb.ensembles[token]
        for k, token in enumerate(tokens)
        if token in kb.ensembles and k not in inside and not scope.leaves_out(k)
    ]


def _stated_size(words: list[Ensemble]) -> int | None:
    """How many players the ensemble words state; None when none does, or two disagree."""
    sizes = {word.size for word in words}
    return sizes.pop() if len(sizes) == 1 else None


def _with_parent(kb: KnowledgeBase, found: Genre) -> tuple[Genre, Genre | None]:
    """(genre, sub_genre) for a genre record: a sub-genre comes with its parent."""
    parent = kb.genres.get(found.parent) if found.parent else None
    return (parent, found) if parent else (found, None)


_CLAUSE_BREAK = re.compile(r"[,;:.!?()]")


def _joined(left: int, tokens: list[str], text: str, offsets: list[int]) -> bool:
    """Whether tokens `left` and `left + 1` are in one phrase (no comma or stop between)."""
    return not _CLAUSE_BREAK.search(text[offsets[left] + len(tokens[left]) : offsets[left + 1]])


def _lineup(
    kb: KnowledgeBase,
    tokens: list[str],
    offsets: list[int],
    text: str,
    positive: list[Mention],
    exclusions: Exclusions,
    style: Genre | None,
    said: dict[str, str],
) -> list[tuple[str, str, str | None]]:
    """(instrument id, role, descriptor) for every instrument named, in order; `said` gets
    the person's words for an id that reads as a general word ("grand piano" is the id
    "piano", which alone would be the style's kind of piano). A named
    ensemble ("string quartet") brings its members in their parts (violin lead, viola
    chords, cello bass), save those excluded; a member also named on its own keeps the
    ensemble's part unless a role word says otherwise ("a string quartet, cello solo").
    A generic word ("bass", "drums") is the style's kind of it (`genre_kind`); `style` is
    None when no style was named or implied, and the word keeps its plain reading."""
    ensemble_roles: dict[str, str] = {}
    copies: dict[str, int] = {}  # players of one instrument, where more than one
    for mention in positive:
        if mention.table == "named_ensembles" and mention.id in kb.named_ensembles:
            ensemble = kb.named_ensembles[mention.id]
            for iid, part in ensemble.members.items():
                ensemble_roles.setdefault(iid, part)
            for iid in ensemble.second_players:
                copies[iid] = 2
    # Instruments whose part was said (by a role word or an ensemble), not looked up.
    stated = set(ensemble_roles)
    lineup: dict[str, tuple[str, str | None]] = {}
    by_word: dict[str, str] = {}  # lineup entries a generic word put there, and the word
    for mention in positive:
        # the words beside the name that may colour, count or cast it, within its phrase: in
        # "guitar melody, accordion and ..." the melody is the guitar's, not the accordion's
        start, end = mention.start, mention.end
        joined = start > 0 and _joined(start - 1, tokens, text, offsets)
        before = tokens[start - 1] if joined else ""
        earlier = (
            tokens[start - 2]
            if joined and start > 1 and _joined(start - 2, tokens, text, offsets)
            else ""
        )
        after = tokens[end] if end < len(tokens) and _joined(end - 1, tokens, text, offsets) else ""
        if mention.table == "named_ensembles" and mention.id in kb.named_ensembles:
            ensemble = kb.named_ensembles[mention.id]
            colour = _descriptor(earlier, before, mention.surface, ensemble.name, kb.articulations)
            for iid, part in ensemble.members.items():
                if iid not in lineup and not excludes(exclusions, kb.instruments[iid], part):
                    lineup[iid] = (part, colour)
            continue
        if mention.table != "instruments" or mention.id not in kb.instruments:
            continue
        named = kb.instruments[mention.id]
        # "a male vocalist ... singing": the singer already named (None); "bass, but no
        # upright bass": not the double bass
        inst, stood_for = resolve_name(
            kb, mention.surface, style, list(lineup), exclusions, by_word, matched=mention.id
        )
        if inst is None:
            continue
        hinted = _ROLE_HINTS.get(before, _ROLE_HINTS.get(after))
        role = "drums" if inst.drum else hinted or ensemble_roles.get(inst.id, inst.role)
        if hinted:
            stated.add(inst.id)
        how_many = _copies(earlier, before)
        if how_many > 1 and not inst.drum:
            copies[inst.id] = max(copies.get(inst.id, 1), how_many)
        if inst.family == "bass" and role not in ("lead",):
            role = "bass"
        descriptor = _descriptor(earlier, before, mention.surface, named.name, kb.articulations)
        if stood_for is not None:  # "a singer ... female vocals": the kind takes the word's place
            kept = lineup[stood_for][1]
            lineup = {
                (inst.id if iid == stood_for else iid): (
                    (role, descriptor or kept) if iid == stood_for else entry
                )
                for iid, entry in lineup.items()
            }
        elif inst.id not in lineup:
            lineup[inst.id] = (role, descriptor)
            if kb.generic_instrument(inst.id) and not kb.generic_instrument(mention.surface):
                said[inst.id] = mention.surface
        elif hinted and not inst.drum and inst.id in ensemble_roles:
            lineup[inst.id] = (role, lineup[inst.id][1])
    _low_voice_on_bass(kb, lineup, copies, stated, style)
    return [
        (iid, role, descriptor)
        for iid, (role, descriptor) in lineup.items()
        for _ in range(copies.get(iid, 1))
    ]


def _low_voice_on_bass(
    kb: KnowledgeBase,
    lineup: dict[str, tuple[str, str | None]],
    copies: dict[str, int],
    stated: set[str],
    style: Genre | None,
) -> None:
    """With no bass part named, the lowest of several melody players takes the bass line
    when the style gives that instrument the bass (any style, when none is named): "violin
    and cello" is a tune over a cello bass line. A part that was asked for ("a cello
    melody") stays as it is."""
    leads = [iid for iid, (role, _) in lineup.items() if role == "lead"]
    if any(role == "bass" for role, _ in lineup.values()):
        return
    if sum(copies.get(iid, 1) for iid in leads) < 2:
        return
    low = min(leads, key=lambda iid: kb.instruments[iid].register[0])
    floor = kb.instruments[low].register[0]
    if low in stated or copies.get(low, 1) > 1:
        return
    if sum(kb.instruments[iid].register[0] == floor for iid in leads) > 1:
        return
    styles = [style] if style is not None else list(kb.genres.values())
    if any(low in genre.instrumentation.get("bass", ()) for genre in styles):
        lineup[low] = ("bass", lineup[low][1])


def _most_specific(kb: KnowledgeBase, found: list[Genre], lead: Genre | None = None) -> Genre:
    """The deepest genre in the taxonomy, the first named on a tie; with `lead` (one of
    `found`), only genres of its lineage count (see `_lead_genre`)."""
    if lead is not None:
        found = [g for g in found if _related(kb, g, lead)]
    return max(found, key=lambda g: (len(kb.genre_ancestors(g.id)), -found.index(g)))


def _lead_genre(named: list[tuple[Genre, Mention]]) -> Genre:
    """The style a prompt leads with: the head (last word) of its first run of adjacent
    genre words ("a jazzy boom bap hip-hop": hip hop). A style named later and unrelated
    to it ("could be used in a movie soundtrack") does not replace it."""
    head, end = named[0][0], named[0][1].end
    for genre, mention in named[1:]:
        if mention.start != end:
            break
        head, end = genre, mention.end
    return head


def _related(kb: KnowledgeBase, a: Genre, b: Genre) -> bool:
    """Whether one genre is the other or an ancestor of it ("pop" and "ballad")."""
    return a.id == b.id or a.id in kb.genre_ancestors(b.id) or b.id in kb.genre_ancestors(a.id)


def _version_of(kb: KnowledgeBase, style: Genre, form: Genre) -> Genre | None:
    """The style's own version of a form (jazz + ballad: Jazz Ballad): the style itself or
    its nearest sub-genre with `form_of` the form; None when it has none."""
    level = [style]
    while level:
        for genre in level:
            if genre.form_of == form.id:
                return genre
        level = [kb.genres[c] for g in level for c in kb.genre_children(g.id)]
    return None


def _is_form(genre: Genre, mention: Mention) -> bool:
    """Whether a genre mention names a form any style can take ("a ballad"), not the genre's
    own style ("a pop ballad")."""
    return normalize(mention.surface) in {normalize(word) for word in genre.form_words}


def _choose_genre(
    kb: KnowledgeBase, mentions: list[Mention]
) -> tuple[Genre | None, Genre | None, float, Genre | None]:
    """(genre, sub_genre, confidence, form) from genre mentions; the most specific wins, then
    the first. A form ("ballad") named beside styles none of which it belongs to does not
    replace them: "a jazz trio playing a ballad" is the style's own version of the form
    (Jazz Ballad), else the style, with the form returned so its tempo can apply; `form` is
    None otherwise."""
    named = [(kb.genres[m.id], m) for m in mentions if m.table == "genres" and m.id in kb.genres]
    if not named:
        return None, None, 0.0, None
    found = [g for g, _ in named]
    styles = [g for g, m in named if not _is_form(g, m)]
    style_ids = {g.id for g in styles}
    forms = [g for g, m in named if _is_form(g, m) and g.id not in style_ids]
    best = _most_specific(kb, found, _lead_genre(named))
    form = next((f for f in forms if styles and not any(_related(kb, f, s) for s in styles)), None)
    if form is not None:
        style = _most_specific(kb, styles)
        version = _version_of(kb, style, form)
        best = version or style
        form = None if version else form
    genre, sub_genre = _with_parent(kb, best)
    return genre, sub_genre, 0.9, form


def parse_rules(text: str, *, original: str | None = None) -> Reading:
    """Read a preprocessed (normalized) prompt. `original` keeps case for chord symbols."""
    kb = load_knowledge()
    original = original if original is not None else text
    token_pairs = tokenize(text)
    tokens = [t for t, _ in token_pairs]
    offsets = [o for _, o in token_pairs]
    mentions = find_mentions(text)

    players_named = [
        (m.start, m.end) for m in mentions if m.table in ("instruments", "named_ensembles")
    ]
    scope = read_scope(tokens, offsets, text, players_named)
    left_out: list[str] = []
    moods_out: list[str] = []
    positive: list[Mention] = []
    for mention in mentions:
        if mention.start in scope.markers:
            continue  # "free" in "piano-free" is not a mood
        if scope.leaves_out(mention.start):
            if mention.table == "instruments":
                left_out.append(mention.id)
            elif mention.table == "named_ensembles" and mention.id in kb.named_ensembles:
                left_out.extend(kb.named_ensembles[mention.id].members)
            elif mention.table == "moods":
                moods_out.append(mention.id)
            continue
        positive.append(mention)
    exclusions = Exclusions(
        instruments=list(dict.fromkeys(left_out)),
        families=list(scope.families),
        roles=list(scope.roles),
        moods=list(dict.fromkeys(moods_out)),
    )

    genre, sub_genre, genre_conf, form = _choose_genre(kb, positive)
    style_named = sub_genre or genre
    artists = [m for m in positive if m.table == "artists"]
    artist_records = [a for a in (kb.find_artist(m.surface) for m in artists) if a is not None]
    era_mention = next((m for m in positive if m.table == "eras"), None)
    ensembles = [
        kb.named_ensembles[m.id]
        for m in positive
        if m.table == "named_ensembles" and m.id in kb.named_ensembles
    ]
    if genre is None and artist_records:
        for gid in artist_records[0].genres:
            if gid in kb.genres:
                genre, sub_genre = _with_parent(kb, kb.genres[gid])
                genre_conf = 0.7
                break
    size_words = _size_words(kb, tokens, mentions, scope)
    implied = next((e.genre for e in ensembles if e.genre in kb.genres), None)
    if genre is None and implied is None:  # "a quintet": chamber music; "a jazz quintet": jazz
        implied = next((w.genre for w in size_words if w.genre in kb.genres), None)
    if genre is None and implied is not None:  # "a string quartet": chamber music
        genre, sub_genre = _with_parent(kb, kb.genres[implied])
        genre_conf = 0.7
    elif (
        sub_genre is None
        and implied is not None
        and genre is not None
        and genre.id in kb.genre_ancestors(implied)
    ):  # "a classical string quartet": classical, chamber music
        sub_genre = kb.genres[implied]
    if genre is None and era_mention is not None:
        era = kb.eras.get(era_mention.id)
        if era and era.genres and era.genres[0] in kb.genres:
            genre = kb.genres[era.genres[0]]
            genre_conf = 0.45
    inferred_genre = genre is None
    if genre is None:
        genre = kb.find_genre("pop")
        genre_conf = 0.3
    if genre is None:  # pragma: no cover - the knowledge base always has pop
        raise LookupError("the knowledge base has no 'pop' genre")
    effective = sub_genre or genre

    moods = [m for m in positive if m.table == "moods"]
    mood_ids = list(dict.fromkeys(m.id for m in moods))
    mood_values = [
        ValueWithConfidence(value=kb.moods[mid].id, confidence=0.85)
        for mid in mood_ids
        if mid in kb.moods
    ]

    said: dict[str, str] = {}
    instruments = _lineup(
        kb,
        tokens,
        offsets,
        text,
        positive,
        exclusions,
        None if inferred_genre else effective,
        said,
    )
    if scope.voice_only and not any(sings(kb.instruments[iid]) for iid, _, _ in instruments):
        instruments.append(("vocals", "lead", None))  # "a cappella": voices, nothing else
    instrumentation = [
        InstrumentMention(name=said.get(iid, iid), role=role, confidence=0.9, descriptor=desc)
        for iid, role, desc in instruments
    ]

    stated_bpm = _stated_tempo(text)
    multiplier = None
    tempo_cap = None
    term_bpm = None
    for term in sorted(kb.tempo_terms, key=lambda t: -len(t.term)):
        pattern = r"\b" + re.escape(term.term) + r"\b"
        found = re.search(pattern, text)
        if not found:
            continue
        negated = re.search(
            r"\bnot (too |very |so )?$", text[max(0, found.start() - 12) : found.start()]
        )
        if term.multiplier is not None:
            multiplier = term.multiplier
        elif term.bpm is not None:
            if negated:
                tempo_cap = float(term.bpm[0])
            elif term_bpm is None:
                term_bpm = (term.bpm[0] + term.bpm[1]) / 2
    if stated_bpm is not None:
        tempo = TempoValue(
            type="explicit", bpm=min(max(stated_bpm, TEMPO_MIN_BPM), TEMPO_MAX_BPM), confidence=0.95
        )
    elif term_bpm is not None:
        tempo = TempoValue(
            type="inferred", bpm=min(max(term_bpm, TEMPO_MIN_BPM), TEMPO_MAX_BPM), confidence=0.75
        )
    elif form is not None:  # "a metal ballad": the style, at the form's tempo
        tempo = TempoValue(type="inferred", bpm=float(form.default_bpm), confidence=_FORM_TEMPO)
    else:
        bpm = float(effective.default_bpm)
        if artist_records:
            lo, hi = artist_records[0].bpm
            bpm = min(max(bpm, lo), hi)
        tempo = TempoValue(type="inferred", bpm=bpm, confidence=0.5 if not inferred_genre else 0.3)

    tonic, mode, key_conf = _stated_key(text, original)
    key_value = f"{tonic} {mode}" if tonic and mode else None
    meter = _stated_meter(text)

    energy_value = None
    for phrase, value in sorted(_ENERGY_WORDS.items(), key=lambda kv: -len(kv[0])):
        if re.search(r"\b" + re.escape(phrase) + r"\b", text):
            energy_value = value
            break
    if energy_value is not None:
        energy = EnergyValue(value=energy_value, confidence=0.8)
    elif mood_ids:
        arousal = sum(kb.moods[m].arousal for m in mood_ids if m in kb.moods) / max(
            1, len(mood_ids)
        )
        energy = EnergyValue(value=round(0.5 * arousal + 0.5 * effective.energy, 3), confidence=0.6)
    else:
        energy = EnergyValue(value=effective.energy, confidence=0.4)

    structure_mention = next((m for m in positive if m.table == "structures"), None)
    sections = _section_list(text)
    structure_value = (
        structure_mention.id
        if structure_mention
        else (effective.structures[0] if effective.structures else "verse-chorus")
    )
    key_for_numerals = key_value or f"C {mode or 'major'}"
    progression = stated_progression(original, key_for_numerals)
    era_id = era_mention.id if era_mention else None
    duration = _stated_duration(text)
    understood = any(
        (
            mentions,
            scope.roles,
            scope.families,
            stated_bpm is not None,
            multiplier is not None or tempo_cap is not None or term_bpm is not None,
            tonic or mode,
            meter,
            duration is not None,
            progression,
            sections,
            energy_value is not None,
            size_words,
            says_music(tokens),
        )
    )
    stated_size = _stated_size(size_words)
    named_players = players(kb, [iid for iid, _, _ in instruments])
    alone = bool(_ALONE.search(_FEATURED_SOLO.sub(" ", text)))
    solo = (
        (alone and len(instruments) == 1)
        or scope.only
        or named_players == stated_size
        or ensemble_is_the_band(kb, ensembles, style_named)
    )
    short_of = not solo and stated_size is not None and named_players < stated_size
    ensemble_size = stated_size if short_of else None

    parsed = ParsedParameters(
        genre=ValueWithConfidence(value=genre.name, confidence=genre_conf),
        sub_genre=OptionalValueWithConfidence(
            value=sub_genre.name if sub_genre else None, confidence=0.85 if sub_genre else 0.0
        ),
        tempo=tempo,
        mood=mood_values,
        instrumentation=instrumentation,
        structure=ValueWithConfidence(
            value=structure_value, confidence=0.85 if structure_mention or sections else 0.4
        ),
        key_signature=OptionalValueWithConfidence(
            value=key_value, confidence=key_conf if key_value else 0.0
        ),
        time_signature=ValueWithConfidence(
            value=meter or effective.meters[0], confidence=0.9 if meter else 0.5
        ),
        energy_level=energy,
        reference_artists=[ArtistReference(name=a.name, relevance=0.8) for a in artist_records],
        era=OptionalValueWithConfidence(value=era_id, confidence=0.85) if era_id else None,
        duration_seconds=duration,
        exclusions=exclusions.model_copy(update={"only": solo}),
        chord_progression=progression,
        section_names=sections,
    )
    return Reading(
        parsed=parsed,
        genre_id=genre.id if not inferred_genre else None,
        sub_genre_id=sub_genre.id if sub_genre else None,
        mood_ids=mood_ids,
        instrument_ids=instruments,
        artist_names=[a.name for a in artist_records],
        era_id=era_id,
        structure_id=structure_mention.id if structure_mention else None,
        tempo_multiplier=multiplier,
        tempo_cap=tempo_cap,
        mode_hint=mode,
        tonic_hint=tonic if not key_value else None,
        ensemble_size=ensemble_size,
        ensemble_ids=tuple(dict.fromkeys(e.id for e in ensembles)),
        understood=understood,
    )
